/**
 * CPU time and resident memory of process groups, read from /proc. Each EE is
 * a process group (its runtime and every process it forked: Python's workers),
 * and Hearth's EEs have no cgroup of their own, so /proc/<pid>/stat of the
 * group's members is where their use is counted.
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';

/** What one process group used. */
export interface GroupSample {
  /** CPU time (user + system) the group used since the previous sample of it, ms. The first sample counts everything since its processes started. */
  cpuMs: number;
  /** Resident memory of the group now (sum of its members' RSS; pages shared after fork count once per member), bytes. */
  rssBytes: number;
  /** Live members found. */
  members: number;
}

/** Samples process groups. */
export interface ProcessSampler {
  /** Samples each group of `pgids`; groups not asked for again are forgotten. */
  sample(pgids: ReadonlySet<number>): Map<number, GroupSample>;
  /** Releases what the sampler holds open. Idempotent. */
  close?(): void;
}

/** Options of createProcfsSampler. */
export interface ProcfsSamplerOptions {
  /**
   * How often the whole of /proc is listed to find new members of the groups
   * (a forked or restarted worker), ms; between listings only known members are
   * read. Default 1000.
   */
  rescanIntervalMs?: number;
  /** Root of procfs. Default `/proc`. */
  procDir?: string;
  /** Clock, ms. Default performance.now. */
  now?: () => number;
}

/** Kernel clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on every Linux architecture Node runs on). */
const clockTicksPerSecond = 100;
const msPerTick = 1000 / clockTicksPerSecond;
/** How often the set of processes known to be in no sampled group is forgotten, so that a reused pid is read again. */
const foreignCacheMs = 30_000;

interface StatFields {
  pgrp: number;
  ticks: number;
  rssPages: number;
  /** Exited, waiting to be reaped: its times are final and it holds no memory. */
  exited: boolean;
}

/**
 * Parses the fields Hearth needs from /proc/<pid>/stat; undefined when it does
 * not parse. The command name (field 2) may hold spaces and parentheses, so the
 * fields are counted from the last `)`.
 */
export function parseStat(text: string): StatFields | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // After ") ": state(3) ppid(4) pgrp(5) … utime(14) stime(15) … rss(24).
  const fields = text.slice(close + 2).split(' ');
  if (fields.length < 22) return undefined;
  const exited = fields[0] === 'Z' || fields[0] === 'X';
  return { pgrp: Number(fields[2]), ticks: Number(fields[11]) + Number(fields[12]), rssPages: exited ? 0 : Number(fields[21]), exited };
}

/**
 * The kernel's page size: the agent's own RSS in bytes over its RSS in pages,
 * rounded to a power of two (4 KiB on most machines, 16 or 64 KiB on some arm64
 * kernels). Default 4096 when /proc cannot tell.
 */
export function detectPageSize(procDir = '/proc'): number {
  try {
    const stat = parseStat(readFileSync(`${procDir}/self/stat`, 'latin1'));
    if (!stat || stat.rssPages <= 0) return 4096;
    const ratio = process.memoryUsage.rss() / stat.rssPages;
    const size = 2 ** Math.round(Math.log2(ratio));
    return size >= 4096 && size <= 65536 ? size : 4096;
  } catch {
    return 4096;
  }
}

interface Member {
  /** CPU ticks it had used at the previous sample. */
  ticks: number;
  /** /proc/<pid>/stat kept open: re-read with one pread per sample instead of open, read and close. */
  fd: number;
}

interface Group {
  readonly members: Map<number, Member>;
}

/**
 * A sampler over /proc. Per sample it reads /proc/<pid>/stat of each known
 * member of the asked-for groups (one pread of a file it keeps open; a reused
 * pid cannot be mistaken, since the open file stays the old process's); about once a
 * second (and at once for a group it does not know yet) it lists /proc to find
 * new members, reading only pids it has not classified before. CPU is the
 * difference of each member's utime + stime between samples; a member that
 * exited is counted to its end while it waits to be reaped, and one reaped
 * between two samples loses at most its last interval.
 */
export function createProcfsSampler(options: ProcfsSamplerOptions = {}): ProcessSampler {
  const procDir = options.procDir ?? '/proc';
  const rescanIntervalMs = options.rescanIntervalMs ?? 1_000;
  const now = options.now ?? (() => performance.now());
  const pageSize = detectPageSize(procDir);
  const groups = new Map<number, Group>();
  /** Every member of every group, to skip them in rescans. */
  const members = new Set<number>();
  /** Pids seen in no sampled group; skipped by rescans until forgotten. */
  let foreign = new Set<number>();
  let foreignSince = now();
  let lastScan = -Infinity;

  const readStat = (pid: number): StatFields | undefined => {
    try {
      return parseStat(readFileSync(`${procDir}/${pid}/stat`, 'latin1'));
    } catch {
      return undefined;
    }
  };
  const buffer = Buffer.alloc(1024);
  const rereadStat = (member: Member): StatFields | undefined => {
    try {
      const length = readSync(member.fd, buffer, 0, buffer.length, 0);
      return parseStat(buffer.toString('latin1', 0, length));
    } catch {
      return undefined;
    }
  };
  const addMember = (group: Group, pid: number): void => {
    let fd: number;
    try {
      fd = openSync(`${procDir}/${pid}/stat`, 'r');
    } catch {
      return;
    }
    // A new member's CPU since it started counts in full: it was spent within the group's life.
    group.members.set(pid, { ticks: 0, fd });
    members.add(pid);
  };
  const dropMember = (group: Group, pid: number, member: Member): void => {
    group.members.delete(pid);
    members.delete(pid);
    try {
      closeSync(member.fd);
    } catch {
      // closed already
    }
  };

  const rescan = (wanted: ReadonlySet<number>): void => {
    let entries: string[];
    try {
      entries = readdirSync(procDir);
    } catch {
      return;
    }
    if (now() - foreignSince > foreignCacheMs) {
      foreign = new Set();
      foreignSince = now();
    }
    for (const entry of entries) {
      const first = entry.charCodeAt(0);
      if (first < 48 || first > 57) continue;
      const pid = Number(entry);
      if (foreign.has(pid) || members.has(pid)) continue;
      const stat = readStat(pid);
      if (!stat || stat.exited) continue;
      const group = wanted.has(stat.pgrp) ? groups.get(stat.pgrp) : undefined;
      if (group) addMember(group, pid);
      else foreign.add(pid);
    }
  };

  return {
    sample(pgids) {
      for (const [pgid, group] of groups) {
        if (pgids.has(pgid)) continue;
        for (const [pid, member] of group.members) dropMember(group, pid, member);
        groups.delete(pgid);
      }
      let unknown = false;
      for (const pgid of pgids) {
        if (!groups.has(pgid)) {
          // The leader's pid is the group id: known at once, without a scan.
          const group: Group = { members: new Map() };
          groups.set(pgid, group);
          addMember(group, pgid);
          unknown = true;
        }
      }
      // Processes of a new group forked before it was asked for may sit in the foreign cache.
      if (unknown) foreign.clear();
      const at = now();
      if (unknown || at - lastScan >= rescanIntervalMs) {
        lastScan = at;
        rescan(pgids);
      }
      const samples = new Map<number, GroupSample>();
      for (const [pgid, group] of groups) {
        let cpuTicks = 0;
        let rssPages = 0;
        for (const [pid, member] of group.members) {
          const stat = rereadStat(member);
          if (!stat || stat.pgrp !== pgid) {
            dropMember(group, pid, member);
            continue;
          }
          cpuTicks += Math.max(0, stat.ticks - member.ticks);
          rssPages += stat.rssPages;
          member.ticks = stat.ticks;
          // An exited member's last interval is counted above; nothing more will come of it.
          if (stat.exited) dropMember(group, pid, member);
        }
        samples.set(pgid, { cpuMs: cpuTicks * msPerTick, rssBytes: rssPages * pageSize, members: group.members.size });
      }
      return samples;
    },
    close() {
      for (const group of groups.values()) for (const [pid, member] of group.members) dropMember(group, pid, member);
      groups.clear();
    },
  };
}
