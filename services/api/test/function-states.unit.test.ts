import { describe, expect, it } from 'vitest';
import { findVersion, type FunctionStreamState, type ExistingFunction } from '@hearth/domain';
import { createFunctionStates, type VersionedFunctionState } from '../src/invoke/function-states.js';
import { commands, history } from './invoke-support.js';

const created = history([commands.create(), commands.publish()]);
const activated = history([commands.create(), commands.publish(), commands.activate('1')]);
const stateOf = (state: FunctionStreamState, version: string) => findVersion(state as ExistingFunction, version)?.State;

/** A loader answering from a table the test controls, counting reads. */
function loader(initial: VersionedFunctionState) {
  const table = { current: initial, reads: 0 };
  const gates: Array<() => void> = [];
  return {
    table,
    /** Holds the next read until release() (to race events against it). */
    hold: () => new Promise<void>((resolve) => gates.push(resolve)),
    release: () => gates.shift()?.(),
    load: async (): Promise<VersionedFunctionState> => {
      table.reads += 1;
      const snapshot = table.current;
      if (gates.length > 0) await new Promise<void>((resolve) => gates.push(resolve));
      return snapshot;
    },
  };
}

describe('createFunctionStates', () => {
  it('reads the read model once, then answers from memory', async () => {
    const source = loader({ state: created.state, streamVersion: 2 });
    const states = createFunctionStates({ load: source.load });
    await states.get('fn1');
    await states.get('fn1');
    await Promise.all([states.get('fn1'), states.get('fn1')]);
    expect(source.table.reads).toBe(1);
    expect(states.stats()).toMatchObject({ loads: 1, hits: 3 });
  });

  it('folds the next event in without reading again, and ignores events already covered', async () => {
    const source = loader({ state: created.state, streamVersion: 2 });
    const states = createFunctionStates({ load: source.load });
    await states.get('fn1');
    states.observe('fn1', activated.events[1]!, 2);
    states.observe('fn1', activated.events[2]!, 3);
    const after = await states.get('fn1');
    expect(after.streamVersion).toBe(3);
    expect(stateOf(after.state, '1')).toBe('Active');
    expect(source.table.reads).toBe(1);
    expect(states.stats().folded).toBe(1);
  });

  it('reads again after an event that skips versions', async () => {
    const source = loader({ state: created.state, streamVersion: 2 });
    const states = createFunctionStates({ load: source.load });
    await states.get('fn1');
    states.observe('fn1', activated.events[2]!, 4);
    source.table.current = { state: activated.state, streamVersion: 4 };
    expect((await states.get('fn1')).streamVersion).toBe(4);
    expect(source.table.reads).toBe(2);
  });

  it("takes the control plane's own appends at once and never goes back", async () => {
    const source = loader({ state: created.state, streamVersion: 2 });
    const states = createFunctionStates({ load: source.load });
    states.appended('fn1', activated.state, 3);
    states.appended('fn1', created.state, 2);
    expect(stateOf((await states.get('fn1')).state, '1')).toBe('Active');
    expect(source.table.reads).toBe(0);
  });

  it('does not keep a read that an event overtook while it was in flight', async () => {
    const source = loader({ state: created.state, streamVersion: 2 });
    const states = createFunctionStates({ load: source.load });
    void source.hold();
    const first = states.get('fn1');
    await Promise.resolve();
    states.observe('fn1', activated.events[2]!, 3);
    source.release();
    source.release();
    expect((await first).streamVersion).toBe(2);
    source.table.current = { state: activated.state, streamVersion: 3 };
    expect((await states.get('fn1')).streamVersion).toBe(3);
    expect(states.stats().outdatedLoads).toBe(1);
  });

  it('keeps at most maxEntries functions, dropping the least recently used', async () => {
    const states = createFunctionStates({ load: async () => ({ state: created.state, streamVersion: 2 }), maxEntries: 2 });
    await states.get('a');
    await states.get('b');
    await states.get('a');
    await states.get('c');
    expect(states.stats()).toMatchObject({ entries: 2, evicted: 1 });
    await states.get('a');
    expect(states.stats().loads).toBe(3);
  });

  it('forgets everything on clear()', async () => {
    const source = loader({ state: created.state, streamVersion: 2 });
    const states = createFunctionStates({ load: source.load });
    await states.get('fn1');
    states.clear();
    await states.get('fn1');
    expect(source.table.reads).toBe(2);
  });
});
