import { describe, expect, it } from 'vitest';
import { HeartbeatTracker } from '../src/heartbeats.js';

function tracker(): { hb: HeartbeatTracker; clock: { now: number } } {
  const clock = { now: 1_000 };
  return { hb: new HeartbeatTracker({ now: () => clock.now }), clock };
}

const beat = (instanceId: string) => ({ instanceId, at: 1, environments: [] });

describe('HeartbeatTracker', () => {
  it('finds watched instances silent for longer than the timeout, counting from the watch or the last heartbeat', () => {
    const { hb, clock } = tracker();
    hb.watch('i-a');
    hb.watch('i-b');
    clock.now += 2_000;
    expect(hb.record('i-b', beat('i-b'))).toBe(true);
    clock.now += 1_500;
    expect(hb.silent(3_000)).toEqual([{ instanceId: 'i-a', silentMs: 3_500 }]);
    expect(hb.latest('i-b')).toEqual({ receivedAt: 3_000, heartbeat: beat('i-b') });
    hb.forget('i-a');
    expect(hb.silent(3_000)).toEqual([]);
    expect(hb.size).toBe(1);
  });

  it('keeps nothing for instances it does not watch, and rejects heartbeats of the wrong shape or instance', () => {
    const { hb } = tracker();
    hb.watch('i-a');
    expect(hb.record('i-stranger', beat('i-stranger'))).toBe(false);
    expect(hb.record('i-a', beat('i-b'))).toBe(false);
    expect(hb.record('i-a', { instanceId: 'i-a', at: 'soon' })).toBe(false);
    expect(hb.record('i-a', null)).toBe(false);
    expect([hb.ignored, hb.malformed, hb.size]).toEqual([1, 3, 1]);
    expect(hb.latest('i-stranger')).toBeUndefined();
  });

  it('judges nobody while its own link is down, and gives everyone a full timeout once it is back', () => {
    const { hb, clock } = tracker();
    hb.watch('i-a');
    hb.linkLost();
    clock.now += 10_000;
    expect(hb.silent(3_000)).toEqual([]);
    hb.linkRestored();
    clock.now += 2_999;
    expect(hb.silent(3_000)).toEqual([]);
    clock.now += 2;
    expect(hb.silent(3_000)).toEqual([{ instanceId: 'i-a', silentMs: 3_001 }]);
  });
});
