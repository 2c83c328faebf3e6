import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '../src/keyed-queue.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('KeyedQueue', () => {
  it('runs tasks of one key one at a time in order, other keys alongside, and forgets idle keys', async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const task = (name: string, fail = false) => async () => {
      log.push(`${name}+`);
      await tick();
      log.push(`${name}-`);
      if (fail) throw new Error(name);
      return name;
    };
    const results = Promise.allSettled([queue.run('a', task('a1', true)), queue.run('a', task('a2')), queue.run('b', task('b1'))]);
    expect(queue.activeKeys).toBe(2);
    const [a1, a2, b1] = await results;
    expect(a1).toMatchObject({ status: 'rejected' });
    expect(a2).toEqual({ status: 'fulfilled', value: 'a2' });
    expect(b1).toEqual({ status: 'fulfilled', value: 'b1' });
    // a2 starts only after a1 ended (even though a1 failed); b1 overlaps a1.
    expect(log.indexOf('a2+')).toBeGreaterThan(log.indexOf('a1-'));
    expect(log.indexOf('b1+')).toBeLessThan(log.indexOf('a1-'));
    await tick();
    expect(queue.activeKeys).toBe(0);
  });
});
