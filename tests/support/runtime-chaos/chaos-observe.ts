// What the chaos run reads of the machine: the runtime's processes in /proc, the log
// directory against its caps, the dropped-lines counters and the collector's own counters.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { COLLECTOR_ENV_KEY } from '../../../agents-runtime/src/logs/log-collector';
import type { LogLimits } from '../../../agents-runtime/src/logs/log-files';
import { INSTANCE_ENV, RUNTIME_ID_ENV } from '../../../agents-runtime/src/process/process-driver';
import { scanProcessesByEnv } from '../../../agents-runtime/src/process/proc-identity';
import { PROCESS_SERIES, SERIES_FAMILIES } from '../../../agents-runtime/src/wire/series-names';

export interface MarkedProcess {
  pid: number;
  pgid: number;
  comm: string;
  /** R, S, T (stopped: SIGSTOP), ... */
  state: string;
  instance: string;
}

/** Every live process carrying the runtime's marker (the instances and their descendants). */
export function markedProcesses(runtimeId: string): MarkedProcess[] {
  return scanProcessesByEnv(RUNTIME_ID_ENV, runtimeId).map(({ stat, env }) => ({
    pid: stat.pid,
    pgid: stat.pgid,
    comm: stat.comm,
    state: stat.state,
    instance: env.get(INSTANCE_ENV) ?? '?',
  }));
}

export interface ProcessCensus {
  /** Group leaders by instance: exactly one each when all is well. */
  leaders: Record<string, number[]>;
  /** Marked processes outside the group of the leader the daemon reports for their instance. */
  orphans: MarkedProcess[];
  /** Marked processes left stopped (SIGSTOP) or in uninterruptible sleep. */
  hung: MarkedProcess[];
  /** Log collector processes of the runtime: one. */
  collectors: number[];
}

/** Reads /proc against `reported`, the pid the daemon reports for each instance. */
export function takeCensus(runtimeId: string, reported: ReadonlyMap<string, number>): ProcessCensus {
  const marked = markedProcesses(runtimeId);
  const leaders: Record<string, number[]> = {};
  for (const p of marked) if (p.pid === p.pgid) (leaders[p.instance] ??= []).push(p.pid);
  return {
    leaders,
    orphans: marked.filter((p) => reported.get(p.instance) !== p.pgid),
    hung: marked.filter((p) => p.state === 'T' || p.state === 't' || p.state === 'D'),
    collectors: collectorPids(runtimeId),
  };
}

export function collectorPids(runtimeId: string): number[] {
  return scanProcessesByEnv(COLLECTOR_ENV_KEY, runtimeId).map(({ stat }) => stat.pid);
}

export interface LogDirState {
  totalBytes: number;
  files: Array<{ name: string; bytes: number }>;
  /** Each cap the directory is over, in words; empty when within them. */
  overCaps: string[];
}

/** The log directory against its caps: the total, each live file, and the rotated files kept per instance. */
export function logDirState(dir: string, limits: LogLimits): LogDirState {
  const files: LogDirState['files'] = [];
  for (const name of fs.readdirSync(dir)) {
    try {
      const st = fs.statSync(path.join(dir, name));
      if (st.isFile()) files.push({ name, bytes: st.size });
    } catch {
      // rotated away meanwhile
    }
  }
  const totalBytes = files.reduce((sum, f) => sum + f.bytes, 0);
  const overCaps: string[] = [];
  if (totalBytes > limits.maxTotalBytes) overCaps.push(`${totalBytes} bytes in all, over max_total_bytes ${limits.maxTotalBytes}`);
  for (const f of files) {
    if (f.name.endsWith('.log') && f.bytes > limits.maxFileBytes)
      overCaps.push(`${f.name} holds ${f.bytes} bytes, over max_file_bytes ${limits.maxFileBytes}`);
    const rotated = /\.log\.(\d+)$/.exec(f.name);
    if (rotated !== null && Number(rotated[1]) > limits.keepFiles) overCaps.push(`${f.name} is past keep_files ${limits.keepFiles}`);
  }
  return { totalBytes, files: files.sort((a, b) => a.name.localeCompare(b.name)), overCaps };
}

/** The `N log lines dropped` notices in the log directory (those the caps have not deleted), summed. */
export function droppedNotices(dir: string): number {
  let total = 0;
  for (const name of fs.readdirSync(dir)) {
    if (!/\.log(\.\d+)?$/.test(name)) continue;
    let text: string;
    try {
      text = fs.readFileSync(path.join(dir, name), 'latin1');
    } catch {
      continue;
    }
    for (const m of text.matchAll(/ sys \[sutazai-runtime\] (\d+) log lines dropped/g)) total += Number(m[1]);
  }
  return total;
}

const DROPPED_FAMILY = SERIES_FAMILIES[PROCESS_SERIES.logDroppedLines].prometheus;

/** The runtime's dropped-lines counter of each instance, from its /metrics; null when it does not answer. */
export async function scrapeDroppedLines(metricsPort: number): Promise<Map<string, number> | null> {
  let text: string;
  try {
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(3000) });
    text = await res.text();
  } catch {
    return null;
  }
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${DROPPED_FAMILY}{`)) continue;
    const instance = /sutazai_instance="([^"]*)"/.exec(line)?.[1];
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (instance !== undefined && Number.isFinite(value)) out.set(instance, value);
  }
  return out;
}

/** The collector's own counters (its `stats` request: lines and bytes since it started), or null. */
export function collectorStats(socketPath: string, timeoutMs = 3000): Promise<Record<string, unknown> | null> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    let buffered = '';
    const done = (value: Record<string, unknown> | null): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify({ op: 'stats', id: 1 })}\n`));
    socket.on('data', (text: string) => {
      buffered += text;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      // Other lines it may push (counters for a daemon) are not the answer.
      const reply = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((m) => m.id === 1);
      if (reply !== undefined) done(reply);
    });
    socket.on('error', () => done(null));
  });
}
