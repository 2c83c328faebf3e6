import { describe, expect, it } from 'vitest';
import { parseLoadReport } from '../src/load-report.js';
import { RoutingTable, routeKey } from '../src/routing-table.js';
import { ee, ManualClock, reportOf, seeded } from './support.js';

function tableWith(clock = new ManualClock(), events: string[] = []) {
  const table = new RoutingTable({
    staleMs: 1_500,
    pressureBackoffMs: 250,
    now: clock.now,
    random: seeded(1),
    onCapacity: (key) => events.push(`capacity ${key.replace('\n', ':')}`),
    onAgentSeen: (address) => {
      events.push(`seen ${address}`);
      return true;
    },
    onAgentGone: (address) => events.push(`gone ${address}`),
  });
  return { table, clock, events };
}

describe('RoutingTable', () => {
  it('routes the Ready EEs a report lists, per (function, version)', () => {
    const { table, events } = tableWith();
    table.applyReport(
      reportOf('i-1', [ee('a'), ee('b', { version: '2' }), ee('c', { state: 'Starting' }), ee('d', { functionName: 'other' })]),
    );
    expect(table.route('fn', '1')?.entries.map((entry) => entry.environmentId)).toEqual(['a']);
    expect(table.route('fn', '2')?.entries.map((entry) => entry.environmentId)).toEqual(['b']);
    expect(table.route('other', '1')?.entries.map((entry) => entry.environmentId)).toEqual(['d']);
    expect(table.size).toBe(3);
    expect(events[0]).toBe('seen agent-i-1');
    expect(events).toContain('capacity fn:1');
  });

  it('removes an EE the next report of its instance no longer lists, or lists as not Ready', () => {
    const { table } = tableWith();
    table.applyReport(reportOf('i-1', [ee('a'), ee('b'), ee('c')], 1));
    table.applyReport(reportOf('i-1', [ee('a'), ee('b', { state: 'Failed' })], 2));
    expect(table.route('fn', '1')?.entries.map((entry) => entry.environmentId)).toEqual(['a']);
    // Other instances' EEs are untouched by this instance's report.
    table.applyReport(reportOf('i-2', [ee('x')], 1));
    table.applyReport(reportOf('i-1', [], 3));
    expect(table.route('fn', '1')?.entries.map((entry) => entry.environmentId)).toEqual(['x']);
  });

  it('ignores a report older than one already applied for the instance', () => {
    const { table } = tableWith();
    table.applyReport(reportOf('i-1', [ee('a')], 10));
    expect(table.applyReport(reportOf('i-1', [], 9))).toBe('out_of_order');
    expect(table.size).toBe(1);
  });

  it('ages out EEs whose reports stopped for staleMs, and forgets their agent', () => {
    const { table, clock, events } = tableWith();
    table.applyReport(reportOf('i-1', [ee('a')], 1));
    table.applyReport(reportOf('i-2', [ee('b')], 1));
    clock.advance(1_000);
    table.applyReport(reportOf('i-2', [ee('b')], 2));
    clock.advance(499);
    expect(table.sweep()).toBe(0);
    clock.advance(1);
    expect(table.sweep()).toBe(1);
    expect(table.route('fn', '1')?.entries.map((entry) => entry.environmentId)).toEqual(['b']);
    expect(events).toContain('gone agent-i-1');
    expect(table.isFresh(table.environment('b')!, clock.now())).toBe(true);
  });

  it('keeps its own in-flight count between reports and estimates the rest from the report', () => {
    const { table } = tableWith();
    table.applyReport(reportOf('i-1', [ee('a', { inFlight: 0, maxConcurrency: 10 })], 1));
    const entry = table.environment('a')!;
    const first = table.reserve(entry);
    table.reserve(entry);
    expect(entry.load).toBe(2);
    // The agent sees our 2 and 3 more from another router: others = 3.
    table.applyReport(reportOf('i-1', [ee('a', { inFlight: 5, maxConcurrency: 10 })], 2));
    expect([entry.own, entry.others, entry.load, entry.free]).toEqual([2, 3, 5, 5]);
    // A report taken before our invocations arrived shows fewer than we sent: the estimate never goes negative.
    table.applyReport(reportOf('i-1', [ee('a', { inFlight: 1, maxConcurrency: 10 })], 3));
    expect([entry.own, entry.others]).toEqual([2, 0]);
    table.release(first, 12);
    table.release(first, 12);
    expect(entry.own).toBe(1);
    expect(entry.route.durationEwmaMs).toBe(12);
  });

  it('learns from refusals: full on a concurrency refusal, backed off on pressure, dropped when not running', () => {
    const { table, clock } = tableWith();
    table.applyReport(reportOf('i-1', [ee('a'), ee('b'), ee('c')], 1));
    const [a, b, c] = ['a', 'b', 'c'].map((id) => table.environment(id)!);
    table.reserve(a!);
    table.refused(a!, 'ConcurrencyLimit');
    expect(a!.free).toBe(0);
    table.refused(b!, 'CPUPressure');
    expect(b!.blockedUntil).toBe(clock.now() + 250);
    expect(b!.blockedReason).toBe('CPUPressure');
    table.refused(c!, 'UnknownEnvironment');
    expect(table.environment('c')).toBeUndefined();
    expect(table.route('fn', '1')?.entries).toHaveLength(2);
    // The next report restores the agent's view.
    table.applyReport(reportOf('i-1', [ee('a', { inFlight: 1 }), ee('b'), ee('c')], 2));
    expect(a!.free).toBe(9);
    expect(table.environment('c')).toBeDefined();
  });

  it('keeps an EE that changes version or instance as one entry in the right route', () => {
    const { table } = tableWith();
    table.applyReport(reportOf('i-1', [ee('a')], 1));
    table.applyReport(reportOf('i-2', [ee('a', { version: '2' })], 1));
    expect(table.route('fn', '1')).toBeUndefined();
    expect(table.environment('a')?.instance.instanceId).toBe('i-2');
    expect(table.route('fn', '2')?.entries).toHaveLength(1);
  });

  it('follows an agent that moved to another address', () => {
    const { table, events } = tableWith();
    table.applyReport(reportOf('i-1', [ee('a')], 1));
    table.applyReport({ ...reportOf('i-1', [ee('a')], 2), agentAddress: 'elsewhere' });
    expect(table.environment('a')?.instance.agentAddress).toBe('elsewhere');
    expect(events.filter((event) => !event.startsWith('capacity'))).toEqual(['seen agent-i-1', 'gone agent-i-1', 'seen elsewhere']);
  });

  it('describes routes with load, limit and report age', () => {
    const { table, clock } = tableWith();
    table.applyReport(reportOf('i-1', [ee('b', { inFlight: 2 }), ee('a', { maxConcurrency: 4 })], 1));
    clock.advance(40);
    expect(table.describe('fn')).toEqual([
      { functionName: 'fn', version: '1', environmentId: 'a', instanceId: 'i-1', agentAddress: 'agent-i-1', inFlight: 0, maxConcurrency: 4, reportAgeMs: 40 },
      { functionName: 'fn', version: '1', environmentId: 'b', instanceId: 'i-1', agentAddress: 'agent-i-1', inFlight: 2, maxConcurrency: 10, reportAgeMs: 40 },
    ]);
    expect(table.describe('nope')).toEqual([]);
    expect(routeKey('fn', '1')).toBe('fn\n1');
  });
});

describe('parseLoadReport', () => {
  it('accepts the agents’ shape and rejects what the table cannot use', () => {
    // A Starting EE may lack what routing needs: it is kept, so the table learns it left routing.
    const report = { ...reportOf('i-1', [ee('a'), { environmentId: 'b', state: 'Starting' } as never]) };
    expect(parseLoadReport(report)).toBe(report);
    expect(parseLoadReport(null)).toBe('not an object');
    expect(parseLoadReport({ ...report, agentAddress: '' })).toBe('no agentAddress');
    expect(parseLoadReport({ ...report, environments: [ee('a', { inFlight: -1 })] })).toMatch(/no inFlight/);
  });
});
