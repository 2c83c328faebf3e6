import { describe, expect, it } from 'vitest';
import { RestartBackoff } from '@hearth/cluster';

describe('RestartBackoff', () => {
  it('doubles from 0.5 s up to a 30 s cap while the service keeps crashing', () => {
    const backoff = new RestartBackoff();
    const delays = Array.from({ length: 9 }, () => backoff.next(1_000));
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('starts over after a run that stayed up for the reset period', () => {
    const backoff = new RestartBackoff({ initialMs: 100, maxMs: 1_000, resetAfterMs: 5_000 });
    expect([backoff.next(0), backoff.next(0), backoff.next(4_999)]).toEqual([100, 200, 400]);
    expect([backoff.next(5_000), backoff.next(0)]).toEqual([100, 200]);
  });
});
