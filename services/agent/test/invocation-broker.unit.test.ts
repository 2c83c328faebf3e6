import { ServiceUnavailableException, TooManyRequestsException } from '@hearth/errors';
import { describe, expect, it } from 'vitest';
import type { AdmissionPolicy } from '../src/admission.js';
import { InvocationBroker, type Invocation, type InvocationOutcome, type InvocationSink, type Poller } from '../src/invocation-broker.js';

function invocation(requestId: string, timeoutMs = 5_000): Invocation {
  return { requestId, payload: Buffer.from('{}'), deadlineMs: Date.now() + timeoutMs, timeoutMs, traceHeader: 'Root=1-00000000-000000000000000000000000;Parent=0000000000000001;Sampled=0' };
}

/** A /next poll that records what it was handed. */
function poller(alive = true): Poller & { got: Invocation[] } {
  const got: Invocation[] = [];
  return {
    got,
    deliver(inv) {
      if (!alive) return false;
      got.push(inv);
      return true;
    },
  };
}

describe('InvocationBroker', () => {
  it('hands an invocation to a waiting poll and settles it with the answer', async () => {
    const broker = new InvocationBroker({ environmentId: 'ee', maxConcurrency: 2 });
    const poll = poller();
    broker.poll(poll);
    const result = broker.submit(invocation('a'));
    expect(poll.got.map((i) => i.requestId)).toEqual(['a']);
    expect(broker.holds('a')).toBe(true);
    expect(broker.answer('a', { payload: Buffer.from('"ok"') })).toBe(true);
    await expect(result).resolves.toMatchObject({ payload: Buffer.from('"ok"') });
    expect(broker.answer('a', { payload: Buffer.from('again') })).toBe(false);
    expect(broker.occupied).toBe(0);
  });

  it('queues admitted invocations until a poll arrives, oldest first', async () => {
    const broker = new InvocationBroker({ environmentId: 'ee', maxConcurrency: 3 });
    const first = broker.submit(invocation('a'));
    const second = broker.submit(invocation('b'));
    expect(broker.occupied).toBe(2);
    const poll = poller();
    broker.poll(poll);
    broker.poll(poll);
    expect(poll.got.map((i) => i.requestId)).toEqual(['a', 'b']);
    broker.answer('b', { errorBody: { errorType: 'Boom', errorMessage: 'x' } });
    broker.answer('a', { payload: Buffer.from('1') });
    await expect(second).resolves.toMatchObject({ functionError: 'Unhandled' });
    expect(JSON.parse((await second).payload.toString())).toEqual({ errorType: 'Boom', errorMessage: 'x' });
    await expect(first).resolves.toMatchObject({ payload: Buffer.from('1') });
  });

  it('refuses at once beyond max concurrency, counting the reason', async () => {
    const broker = new InvocationBroker({ environmentId: 'ee-x', maxConcurrency: 1 });
    void broker.submit(invocation('a'));
    const refused = await broker.submit(invocation('b')).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TooManyRequestsException);
    expect(refused).toMatchObject({ reason: 'ConcurrencyLimit' });
    expect(broker.stats.rejected).toEqual({ ConcurrencyLimit: 1 });
  });

  it('asks the admission policy with the EE load (the goodput seam)', async () => {
    const seen: unknown[] = [];
    const policy: AdmissionPolicy = {
      decide(load) {
        // The broker reuses its load object: a policy copies what it keeps.
        seen.push({ ...load, usage: { ...load.usage } });
        return { admit: false, reason: 'CPUPressure', message: 'too hot' };
      },
    };
    const usage = { cpuPercent: 97, memoryMiB: 100, memoryPercent: 5 };
    const broker = new InvocationBroker({ environmentId: 'ee', maxConcurrency: 8, admission: policy, usage });
    broker.poll(poller());
    await expect(broker.submit(invocation('a'))).rejects.toMatchObject({ reason: 'CPUPressure', message: 'too hot' });
    expect(seen).toEqual([
      { environmentId: 'ee', maxConcurrency: 8, occupied: 0, waitingPollers: 1, usage, instance: { cpuPercent: 0, memoryMiB: 0, memoryPercent: 0 } },
    ]);
    expect(broker.rejectedTotal).toBe(1);
  });

  it('times an invocation out with Lambda’s message; the slot stays taken until the runtime answers', async () => {
    const broker = new InvocationBroker({ environmentId: 'ee', maxConcurrency: 2 });
    broker.poll(poller());
    const outcome = await broker.submit(invocation('slow', 30));
    expect(outcome.functionError).toBe('Unhandled');
    expect(JSON.parse(outcome.payload.toString())).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: 'RequestId: slow Error: Task timed out after 0.03 seconds',
    });
    expect(broker.occupied).toBe(1);
    expect(broker.answer('slow', { payload: Buffer.from('late') })).toBe(true);
    expect(broker.occupied).toBe(0);
    expect(broker.stats.timedOut).toBe(1);
  });

  it('frees a timed-out slot when the runtime polls beyond its concurrency (its loop is gone)', async () => {
    const broker = new InvocationBroker({ environmentId: 'ee', maxConcurrency: 1 });
    broker.poll(poller());
    await broker.submit(invocation('lost', 10));
    expect(broker.occupied).toBe(1);
    broker.poll(poller());
    expect(broker.occupied).toBe(0);
    expect(broker.holds('lost')).toBe(false);
  });

  it('times out a queued invocation that never found a poll, and withdraws one whose caller gave up', async () => {
    const broker = new InvocationBroker({ environmentId: 'ee', maxConcurrency: 2 });
    const timedOut = await broker.submit(invocation('q', 10));
    expect(timedOut.functionError).toBe('Unhandled');
    const abort = new AbortController();
    const cancelled = broker.submit(invocation('c'), abort.signal);
    abort.abort();
    await expect(cancelled).rejects.toBeInstanceOf(ServiceUnavailableException);
    expect(broker.occupied).toBe(0);
  });

  it('skips polls whose connection died and keeps the invocation', () => {
    const broker = new InvocationBroker({ environmentId: 'ee', maxConcurrency: 2 });
    broker.poll(poller(false));
    void broker.submit(invocation('a'));
    const live = poller();
    broker.poll(live);
    expect(live.got.map((i) => i.requestId)).toEqual(['a']);
  });

  it('gives nothing to a poll withdrawn because its connection closed', () => {
    const broker = new InvocationBroker({ environmentId: 'ee', maxConcurrency: 2 });
    const gone = poller();
    broker.poll(gone);
    broker.withdraw(gone);
    expect(broker.waitingPollers).toBe(0);
    void broker.submit(invocation('a'));
    expect(gone.got).toEqual([]);
    broker.withdraw(gone);
  });

  it('on stop refuses queued and new work (never started) and ends running work with Runtime.ExitError', async () => {
    const broker = new InvocationBroker({ environmentId: 'ee', maxConcurrency: 3 });
    broker.poll(poller());
    const running = broker.submit(invocation('r'));
    const queued = broker.submit(invocation('q'));
    broker.stopAdmitting('stopping');
    await expect(queued).rejects.toBeInstanceOf(ServiceUnavailableException);
    await expect(broker.submit(invocation('n'))).rejects.toBeInstanceOf(ServiceUnavailableException);
    broker.close('signal: terminated', 'stopped');
    const outcome = await running;
    expect(JSON.parse(outcome.payload.toString())).toEqual({
      errorType: 'Runtime.ExitError',
      errorMessage: 'RequestId: r Error: Runtime exited with error: signal: terminated',
    });
  });

  it('refuses a request id that is already running', async () => {
    const broker = new InvocationBroker({ environmentId: 'ee', maxConcurrency: 3 });
    void broker.submit(invocation('same'));
    await expect(broker.submit(invocation('same'))).rejects.toBeInstanceOf(ServiceUnavailableException);
  });

  describe('the sink interface (InvokeStream’s path)', () => {
    /** A sink that records its one call. */
    function sink(): InvocationSink & { calls: Array<{ outcome?: InvocationOutcome; refused?: string }> } {
      const calls: Array<{ outcome?: InvocationOutcome; refused?: string }> = [];
      return {
        calls,
        complete: (outcome) => void calls.push({ outcome }),
        refuse: (reason) => void calls.push({ refused: reason }),
      };
    }

    it('admits without a promise and answers the sink exactly once', () => {
      const broker = new InvocationBroker({ environmentId: 'ee', maxConcurrency: 1 });
      const poll = poller();
      broker.poll(poll);
      const first = sink();
      expect(broker.admit(invocation('a'), first)).toEqual({ admit: true });
      const second = sink();
      expect(broker.admit(invocation('b'), second)).toMatchObject({ admit: false, reason: 'ConcurrencyLimit' });
      expect(second.calls).toEqual([]);
      broker.answer('a', { payload: Buffer.from('1') });
      broker.answer('a', { payload: Buffer.from('2') });
      expect(first.calls).toHaveLength(1);
      expect(first.calls[0]?.outcome?.payload.toString()).toBe('1');
    });

    it('cancels a queued invocation (refused as Cancelled, slot freed) but lets a running one finish', () => {
      const broker = new InvocationBroker({ environmentId: 'ee', maxConcurrency: 2 });
      broker.poll(poller());
      const running = sink();
      const queued = sink();
      broker.admit(invocation('run'), running);
      broker.admit(invocation('wait'), queued);
      expect(broker.cancel('wait')).toBe(true);
      expect(queued.calls).toEqual([{ refused: 'Cancelled' }]);
      expect(broker.cancel('run')).toBe(false);
      expect(broker.occupied).toBe(1);
      expect(broker.answer('run', { payload: Buffer.from('done') })).toBe(true);
      expect(running.calls[0]?.outcome?.payload.toString()).toBe('done');
      expect(broker.cancel('unknown')).toBe(false);
    });

    it('refuses queued invocations as NotReady when the EE stops, and counts later admissions as NotReady', () => {
      const broker = new InvocationBroker({ environmentId: 'ee', maxConcurrency: 2 });
      const queued = sink();
      broker.admit(invocation('q'), queued);
      broker.stopAdmitting('stopping');
      expect(queued.calls).toEqual([{ refused: 'NotReady' }]);
      expect(broker.admit(invocation('later'), sink())).toMatchObject({ admit: false, reason: 'NotReady' });
      expect(broker.stats.rejected).toEqual({ NotReady: 1 });
    });

    it('remembers the peak of slots taken until it is read', () => {
      const broker = new InvocationBroker({ environmentId: 'ee', maxConcurrency: 4 });
      const poll = poller();
      for (let i = 0; i < 3; i += 1) broker.poll(poll);
      for (const id of ['a', 'b', 'c']) broker.admit(invocation(id), sink());
      for (const id of ['a', 'b']) broker.answer(id, { payload: Buffer.alloc(0) });
      expect(broker.takePeak()).toBe(3);
      expect(broker.takePeak()).toBe(1);
    });

    it('reports each refusal to onReject', () => {
      const reasons: string[] = [];
      const broker = new InvocationBroker({ environmentId: 'ee', maxConcurrency: 1, onReject: (reason) => reasons.push(reason) });
      broker.admit(invocation('a'), sink());
      broker.admit(invocation('b'), sink());
      broker.countRejection('NotReady');
      expect(reasons).toEqual(['ConcurrencyLimit', 'NotReady']);
    });
  });
});
