/**
 * Per-instance metrics from /proc, summed over the instance's PROCESS GROUP.
 *
 * Why the group and not leader + children: the supervisor starts every instance as the
 * leader of its own process group and stops the group whole (supervisor/, process/group-stop),
 * so the group is exactly what the runtime owns and kills. It also keeps grandchildren that
 * were re-parented to init (a double fork, a shell that exec'd and left a daemon) which a
 * parent/child walk loses. Members are found with one pass over /proc/[pid]/stat per tick
 * (field 5, pgrp), shared by all instances; measured at roughly 1-3 ms for a few hundred
 * processes on a 2-core VM (see the report of tests/integration/runtime/metrics.test.ts).
 * When an instance's pid is not a group leader (pgrp != pid: started by something else), the
 * group would be someone else's, so only that pid counts.
 *
 * CPU: utime + stime of each member, diffed per (pid, start time) so a member that exits
 * does not make the sum go backwards; a member born during the interval counts from zero.
 * Time of exited children that their parent reaped (cutime/cstime) is not added: what
 * ran while we watched was already counted live. The time base is /proc/uptime, the same
 * clock as the tick counters. RSS is VmRSS summed over members (shared pages count once per
 * member, as in top). Restarts and uptime come from the supervisor through the provider.
 *
 * Cost (bench:runtime measures the daemon with 100 idle instances; its target is PM2's idle
 * CPU): every tick reads one /proc/<pid>/stat per member, which also carries RSS (field 24,
 * in pages) and threads, so /proc/<pid>/status is not read at all; each member's file stays
 * open and is re-read in place (proc-files.ts), and parsed without making strings. The
 * whole of /proc is scanned for group members when an instance's leader is not in the last
 * scan (a start or restart) and every `fullScanEvery` ticks (default 300, five minutes) as a
 * backstop: the look below finds every member by construction, and a scan reads the stat of
 * every process on the host (at 60 it was a tenth of an idle daemon's CPU with 100
 * instances). In between, new members can only be processes created since the last look: the newest pid
 * the kernel handed out is in /proc/loadavg, so a tick where it has not moved reads nothing
 * more, and one where it has reads the stat of only the pids created meanwhile. A process
 * forked into a group therefore shows up on the next tick. Open files (a readdir of
 * /proc/<pid>/fd per member) are counted every `openFilesEvery` ticks (default 30), except
 * for a member that has not run since its last count (its stat reused, below), and
 * reported from that count in between: 100 readdirs every 10 s were a quarter of an idle
 * daemon's syscalls with 100 instances; a count half a minute old is still the answer to
 * "is it leaking descriptors", and a new member is counted on its first tick.
 * A member with one thread that has not run since the last tick (its /proc/<pid>/schedstat
 * unchanged, a third of the kernel's cost of its stat) keeps its last stat, read in full
 * again at least every STAT_AT_LEAST_EVERY (10) ticks because its RSS can fall without it
 * running (proc-files.ts): with 100 idle instances this halved the per-process part of the
 * tick (cold, once a second: 1.06 -> 0.57 ms median on the shared 2-core VM). A member idle
 * for ten looks in a row is then looked at every fourth tick only (proc-files.ts says what
 * that costs: a long sleeper's wake-up is seen up to 3 s late, its CPU spread as a rate over
 * the ticks passed over).
 */
import path from 'node:path';
import type { InstanceMetrics } from './metric-sample';
import {
  CLOCK_TICKS_PER_SECOND,
  DEFAULT_PROC_ROOT,
  detectPageSize,
  listPids,
  parseNewestPid,
  readPidOpenFiles,
  readText,
  type PidStat,
} from './proc-readers';
import { parseUptimeSeconds } from '../linux/proc-parsers';
import { IDLE_LOOK_EVERY, PidStatFiles, ProcTextFile } from './proc-files';
import { TickSpans } from './tick-spans';

/** What the daemon knows of each instance; `pid` is the group leader, null when not running. */
export interface ProcessInfo {
  instance: string;
  process: string;
  pid: number | null;
  restarts: number;
  /** The operator's restarts, counted apart from `restarts` (0 when not given). */
  operatorRestarts?: number;
  startedAtMs: number | null;
  /** Log lines the log collector could not write; absent when the stamper does not count them. */
  logDroppedLines?: number;
}

export type ProcessProvider = () => ProcessInfo[];

export interface ProcessSamplerOptions {
  procRoot?: string;
  /** Bytes per page for the stat rss field (default: detected from /proc/self). */
  pageSizeBytes?: number;
  /** Scan all of /proc for group members every this many ticks (default 300; 1 = every tick); new pids are looked at every tick. */
  fullScanEvery?: number;
  /** Count open files every this many ticks (default 30; 1 = every tick). */
  openFilesEvery?: number;
  /**
   * On a host that hands out more than PROBE_AT_MOST ids between two ticks (builds, shells:
   * what bench:runtime's loaded machine does), /proc is listed for new members at most every
   * this many ticks (default 5; 1 = every tick). The ids since the last look are kept, so a
   * member forked meanwhile is found on that later tick, never missed; with few new ids the
   * look stays on every tick.
   */
  listNewEvery?: number;
}

export interface ProcessSampler {
  /** `nowMs`: wall-clock time, for uptime (startedAtMs is wall-clock too). */
  sample(instances: ProcessInfo[], nowMs: number): InstanceMetrics[];
  /** Closes the files it keeps open (the metrics service's stop). */
  close(): void;
}

function notRunning(info: ProcessInfo, pid: number | null): InstanceMetrics {
  return instanceMetrics(info, pid, 0, 0, 0, null, null);
}

/**
 * One instance's figures, with the dropped-lines count where the stamper keeps one (the
 * field stays absent, not 0, where it does not). One literal for each of the two shapes:
 * a spread of a conditional made a temporary object, and adding the field afterwards a
 * property array, for every instance every tick.
 */
function instanceMetrics(
  info: ProcessInfo,
  pid: number | null,
  cpuPercent: number,
  rssBytes: number,
  threads: number,
  openFiles: number | null,
  uptimeMs: number | null,
): InstanceMetrics {
  const { instance, process, restarts, logDroppedLines } = info;
  const operatorRestarts = info.operatorRestarts ?? 0;
  return logDroppedLines === undefined
    ? { instance, process, pid, cpuPercent, rssBytes, threads, openFiles, restarts, operatorRestarts, uptimeMs }
    : { instance, process, pid, cpuPercent, rssBytes, threads, openFiles, restarts, operatorRestarts, uptimeMs, logDroppedLines };
}

/** What a tick remembers of a group member for the next one. */
interface MemberMemory {
  startTicks: number;
  cpuTicks: number;
  /** Open files at the last count (null: unreadable). */
  openFiles: number | null;
  /** The stat files' activity stamp at the last count (PidStatFiles.activityOf). */
  countedAt: number;
  /** The tick that last saw it: members no tick saw are dropped after it. */
  seenAtTick: number;
}

/*
 * The per-tick paths below (rereadGroups, memberOf, the loop over each instance's members)
 * use indexed loops, not for-of: the daemon is interpreted (lite mode), where every for-of
 * step allocates an iterator result. With 100 idle instances those results were a third of
 * the daemon's garbage, and garbage is most of its idle cost: each scavenge's fresh pages
 * fault in again (bench:runtime, idle CPU with 100 children).
 */

/** The member with `pid` (a loop, not find with a closure: this runs for every instance every tick). */
function memberOf(members: readonly PidStat[], pid: number): PidStat | undefined {
  for (let i = 0; i < members.length; i += 1) if (members[i]!.pid === pid) return members[i];
  return undefined;
}

/** The processes among `pids` whose group is one of `pgids`, grouped by it (each stat read once, not kept open). */
function scanGroups(pids: Iterable<number>, pgids: ReadonlySet<number>, files: PidStatFiles): Map<number, PidStat[]> {
  const groups = new Map<number, PidStat[]>();
  for (const pid of pids) {
    const stat = files.readOnce(pid);
    if (stat === null || !pgids.has(stat.pgrp)) continue; // exited between readdir and read, or not ours
    const members = groups.get(stat.pgrp);
    if (members) members.push(stat);
    else groups.set(stat.pgrp, [stat]);
  }
  return groups;
}

/** Every process under procRoot, grouped by process group id. */
export function scanProcessGroups(procRoot = DEFAULT_PROC_ROOT): Map<number, PidStat[]> {
  const files = new PidStatFiles(procRoot);
  const groups = new Map<number, PidStat[]>();
  for (const pid of listPids(procRoot)) {
    const stat = files.readOnce(pid);
    if (stat === null) continue; // exited between readdir and read
    const members = groups.get(stat.pgrp);
    if (members) members.push(stat);
    else groups.set(stat.pgrp, [stat]);
  }
  return groups;
}

/**
 * With more ids than this handed out since the last look, /proc is listed instead of trying
 * each id: a try of an id that is gone is a failed open, which Node turns into an Error with
 * a stack (on a busy host this look was over a third of a 100-instance daemon's idle time).
 */
const PROBE_AT_MOST = 16;

/**
 * The processes in the watched groups among those created after `since` up to `newest` (the
 * kernel hands ids out in increasing order and wraps at pid_max). A few new ids are tried
 * one by one: cheaper than listing /proc, which makes an entry for every process on the
 * host. Threads take ids from the same counter and /proc/<tid>/stat opens too (with the
 * group of their process), so a match found that way is kept only if it is a process.
 */
function bornInGroups(
  since: number,
  newest: number,
  pgids: ReadonlySet<number>,
  procRoot: string,
  files: PidStatFiles,
): Map<number, PidStat[]> {
  const wrapped = newest < since;
  const isNew = (pid: number): boolean => (wrapped ? pid > since || pid <= newest : pid > since && pid <= newest);
  if (wrapped || newest - since > PROBE_AT_MOST) return scanGroups(listPids(procRoot).filter(isNew), pgids, files);
  const ids: number[] = [];
  for (let id = since + 1; id <= newest; id += 1) ids.push(id);
  const found = scanGroups(ids, pgids, files);
  for (const [pgid, stats] of found) {
    const processes = stats.filter((stat) => isProcess(stat.pid, procRoot));
    if (processes.length > 0) found.set(pgid, processes);
    else found.delete(pgid);
  }
  return found;
}

/** True when `id` is a process (its thread group's leader), not another thread of one: /proc/<id>/status says Tgid = id. */
function isProcess(id: number, procRoot: string): boolean {
  const tgid = /^Tgid:\s*(\d+)/m.exec(readText(path.join(procRoot, String(id), 'status')) ?? '');
  return tgid !== null && Number(tgid[1]) === id;
}

/**
 * Re-reads the members found so far, in `known` itself (each group's array is updated in
 * place: no new map or arrays every tick); drops those gone or moved to another group, and
 * the groups of `leaders` left empty or no longer led by one. A member that has not run since
 * (one thread, its schedstat unchanged) keeps its last stat, read in full again at least every
 * STAT_AT_LEAST_EVERY ticks (proc-files.ts says why and what it costs).
 */
function rereadGroups(known: Map<number, PidStat[]>, leaders: readonly number[], files: PidStatFiles): void {
  let kept = 0;
  for (let i = 0; i < leaders.length; i += 1) {
    const pgid = leaders[i]!;
    const members = known.get(pgid);
    if (members === undefined) continue;
    let n = 0;
    for (let j = 0; j < members.length; j += 1) {
      const old = members[j]!;
      const stat = files.readUnlessIdle(old.pid, old);
      if (stat !== null && stat.pgrp === pgid && stat.startTicks === old.startTicks) members[n++] = stat;
    }
    members.length = n;
    if (n === 0) known.delete(pgid);
    else kept += 1;
  }
  if (known.size === kept) return;
  // Some group is no longer led by a running instance (rare: the tick after a stop).
  const led = new Set(leaders);
  for (const pgid of [...known.keys()]) if (!led.has(pgid)) known.delete(pgid);
}

export function createProcessSampler(options: ProcessSamplerOptions = {}): ProcessSampler {
  const procRoot = options.procRoot ?? DEFAULT_PROC_ROOT;
  const pageSize = options.pageSizeBytes ?? detectPageSize();
  const fullScanEvery = Math.max(1, options.fullScanEvery ?? 300);
  const openFilesEvery = Math.max(1, options.openFilesEvery ?? 30);
  const listNewEvery = Math.max(1, options.listNewEvery ?? 5);
  /** The tick of the last look for new members that listed /proc. */
  let listedAtTick = -Infinity;
  /**
   * What the previous tick saw of each member, by pid (the start time tells a reused pid
   * apart): its CPU ticks and its open files at the last count. Keyed by number and updated
   * in place: string keys made and hashed for each member every tick were a fifth of an idle
   * daemon's tick with 100 instances (interpreted: the daemon runs in lite mode).
   */
  let memory = new Map<number, MemberMemory>();
  let previousUptimeTicks: number | null = null;
  /** Group members as of the last full scan (only the groups of our instances are kept). */
  let known = new Map<number, PidStat[]>();
  let tick = 0;
  const files = new PidStatFiles(procRoot);
  const uptimeFile = new ProcTextFile(path.join(procRoot, 'uptime'));
  /** The last ticks' spans: a long-idle member's CPU over its look window is spread by time (tick-spans.ts). */
  const spans = new TickSpans(IDLE_LOOK_EVERY);
  const loadavgFile = new ProcTextFile(path.join(procRoot, 'loadavg'));
  /** The newest pid at the last look for members (full or incremental); null when /proc/loadavg does not say. */
  let lookedUpTo: number | null = null;
  const newestPid = (): number | null => {
    const text = loadavgFile.read();
    return text === null ? null : parseNewestPid(text);
  };

  return {
    sample(instances, nowMs) {
      const leaders: number[] = [];
      for (let i = 0; i < instances.length; i += 1) {
        const pid = instances[i]!.pid;
        if (pid !== null && pid > 0) leaders.push(pid);
      }
      if (leaders.length === 0) {
        memory = new Map();
        previousUptimeTicks = null;
        known = new Map();
        files.sweep();
        return instances.map((i) => notRunning(i, null));
      }
      tick += 1;
      const uptimeText = uptimeFile.read();
      const uptimeSeconds = uptimeText === null ? null : parseUptimeSeconds(uptimeText);
      const uptimeTicks = uptimeSeconds === null ? null : uptimeSeconds * CLOCK_TICKS_PER_SECOND;
      const elapsedTicks = uptimeTicks !== null && previousUptimeTicks !== null ? uptimeTicks - previousUptimeTicks : 0;
      spans.record(elapsedTicks);
      let fullScan = tick % fullScanEvery === 1 % fullScanEvery;
      for (let i = 0; i < leaders.length && !fullScan; i += 1) fullScan = !known.has(leaders[i]!);
      // Read before the scan: a process created while it runs is looked at again next tick, never missed.
      const newest = newestPid();
      /** Set when the look for new members waits: the ids after it are looked at later. */
      let lookFrom: number | null = null;
      let groups: Map<number, PidStat[]>;
      if (fullScan) {
        groups = scanGroups(listPids(procRoot), new Set(leaders), files);
        known = groups;
      } else {
        if (newest !== null && lookedUpTo !== null && newest !== lookedUpTo) {
          const lists = newest < lookedUpTo || newest - lookedUpTo > PROBE_AT_MOST;
          if (lists && tick - listedAtTick < listNewEvery) {
            lookFrom = lookedUpTo; // not yet: the next look starts where the last one ended
          } else {
            if (lists) listedAtTick = tick;
            for (const [pgid, born] of bornInGroups(lookedUpTo, newest, new Set(leaders), procRoot, files)) {
              const members = known.get(pgid);
              if (members === undefined) continue; // a leader not in `known` forces a full scan instead
              for (const stat of born) if (!members.some((m) => m.pid === stat.pid)) members.push(stat);
            }
          }
        }
        rereadGroups(known, leaders, files);
        groups = known;
      }
      lookedUpTo = lookFrom ?? newest;
      const countFiles = tick % openFilesEvery === 1 % openFilesEvery;
      /** Members this tick saw, each counted once (memory keeps exactly these). */
      let seenMembers = 0;

      const out = instances.map((info): InstanceMetrics => {
        const pid = info.pid;
        if (pid === null || pid <= 0) return notRunning(info, null);
        const group = groups.get(pid);
        const leader = (group === undefined ? undefined : memberOf(group, pid)) ?? files.read(pid);
        if (leader === null) return notRunning(info, pid); // gone since the supervisor last looked
        const members = leader.pgrp === pid && group ? group : [leader];

        let cpuTicks = 0;
        let threads = 0;
        let rssBytes = 0;
        let openFiles: number | null = null;
        for (let i = 0; i < members.length; i += 1) {
          const m = members[i]!;
          let seen = memory.get(m.pid);
          // Not seen before, or the pid of another process now: counted from its start, its files counted now.
          const fresh = seen === undefined || seen.startTicks !== m.startTicks;
          // Spread over the ticks a long-idle member was passed over (proc-files.ts), by their spans: a rate, never more than it can use.
          if (!fresh) cpuTicks += Math.max(0, m.cpuTicks - seen!.cpuTicks) * spans.shareOfThisTick(files.lookWindow(m.pid));
          else if (previousUptimeTicks !== null && m.startTicks >= previousUptimeTicks) cpuTicks += m.cpuTicks;
          threads += m.threads;
          rssBytes += m.rssPages * pageSize;
          /*
           * Its files are counted on schedule unless it has not run since the last count (the
           * stat files' activity stamp is unchanged): a process that has not run has opened
           * and closed nothing. With 100 idle instances the recount (a readdir of
           * /proc/<pid>/fd each) was a tenth of the daemon's idle time.
           */
          const activity = files.activityOf(m.pid);
          const count = fresh || (countFiles && (activity === -1 || activity !== seen!.countedAt));
          const fds = count ? readPidOpenFiles(m.pid, procRoot) : seen!.openFiles;
          if (seen === undefined) {
            seen = { startTicks: m.startTicks, cpuTicks: m.cpuTicks, openFiles: fds, countedAt: activity, seenAtTick: -1 };
            memory.set(m.pid, seen);
          } else {
            seen.startTicks = m.startTicks;
            seen.cpuTicks = m.cpuTicks;
            seen.openFiles = fds;
            if (count) seen.countedAt = activity;
          }
          if (seen.seenAtTick !== tick) {
            seen.seenAtTick = tick;
            seenMembers += 1;
          }
          if (fds !== null) openFiles = (openFiles ?? 0) + fds;
        }
        const cpuPercent = elapsedTicks > 0 ? (cpuTicks / elapsedTicks) * 100 : 0;
        const uptimeMs = info.startedAtMs === null ? null : Math.max(0, nowMs - info.startedAtMs);
        return instanceMetrics(info, pid, cpuPercent, rssBytes, threads, openFiles, uptimeMs);
      });
      // Forget the members no instance has any more (rare: a member exited, an instance stopped).
      if (memory.size !== seenMembers) {
        memory.forEach((seen, pid) => {
          if (seen.seenAtTick !== tick) memory.delete(pid);
        });
      }
      previousUptimeTicks = uptimeTicks;
      // A full scan reads every process once without keeping its file, so it says nothing about which kept files are still wanted.
      if (!fullScan) files.sweep();
      return out;
    },
    close() {
      files.closeAll();
      uptimeFile.close();
      loadavgFile.close();
    },
  };
}
