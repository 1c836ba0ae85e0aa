import type { ChaosReport } from './run-chaos';

const MiB = 1024 * 1024;

/**
 * What the end of a chaos run must show (issue 13, item 4), each broken rule in words; empty
 * when the runtime held: exactly the manifest's instances, each running once; restart counts
 * equal to the kills and hangs; no orphan or hung process and one log collector; the log
 * directory within its caps; the lines the full disk cost counted; the daemon's RSS bounded.
 */
export function chaosViolations(r: ChaosReport): string[] {
  const out = [...r.failures];
  const listed = r.reported.map((i) => i.instance);
  if (listed.join() !== r.expected.instances.join())
    out.push(`the daemon lists ${listed.join(', ')}; the manifest wants ${r.expected.instances.join(', ')}`);
  for (const i of r.reported) {
    if (i.state !== 'PROCESS_STATE_RUNNING') out.push(`${i.instance} is ${i.state}`);
    const expected = r.expected.restarts[i.instance];
    if (expected !== undefined && i.restarts !== expected)
      out.push(`${i.instance} reports ${i.restarts} restarts; it was killed or hung ${expected} times`);
  }
  const leaders = r.census.leaders;
  for (const instance of r.expected.instances) {
    const pid = r.reported.find((i) => i.instance === instance)?.pid;
    if ((leaders[instance] ?? []).join() !== String(pid))
      out.push(`${instance}: process group leaders ${JSON.stringify(leaders[instance] ?? [])} in /proc, the daemon reports pid ${pid}`);
  }
  for (const instance of Object.keys(leaders))
    if (!r.expected.instances.includes(instance))
      out.push(`${instance} still runs (pids ${leaders[instance]!.join(', ')}), not in the manifest`);
  for (const p of r.census.orphans) out.push(`orphan: pid ${p.pid} (${p.comm}) of ${p.instance}, group ${p.pgid}`);
  for (const p of r.census.hung) out.push(`hung: pid ${p.pid} (${p.comm}) of ${p.instance} in state ${p.state}`);
  if (r.census.collectors.length !== 1)
    out.push(`${r.census.collectors.length} log collectors run (pids ${r.census.collectors.join(', ')}), not one`);
  for (const over of r.logDir.overCaps) out.push(`log directory: ${over}`);
  if (r.actions['disk-fill'] > 0 && r.dropped.counted === 0)
    out.push(`the log disk was full ${r.actions['disk-fill']} times and no dropped line was counted`);
  if (r.rss.maxDaemonBytes > r.rss.limitBytes)
    out.push(`the daemon's RSS reached ${(r.rss.maxDaemonBytes / MiB).toFixed(1)} MiB, over ${(r.rss.limitBytes / MiB).toFixed(0)} MiB`);
  if (r.rss.samples.every((s) => s.daemonBytes === null)) out.push("the daemon's RSS was never read");
  return out;
}

/** The figures of a run, for a person: what was done, what the runtime answered, the footprint over time. */
export function formatChaosReport(r: ChaosReport): string {
  const mib = (bytes: number | null): string => (bytes === null ? '-' : (bytes / MiB).toFixed(1));
  const lines = [
    `chaos: seed ${r.seed}, ${(r.chaosMs / 1000).toFixed(0)} s of actions, ${(r.totalMs / 1000).toFixed(0)} s in all`,
    `actions: ${Object.entries(r.actions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `restarts caused (kills and hangs while a daemon ran): ${r.restartsCaused}; counts at the end ${r.reported
      .map((i) => `${i.instance} ${i.restarts}/${r.expected.restarts[i.instance] ?? '?'}`)
      .join(', ')} (reported/expected)`,
    `instances at the end: ${r.reported.map((i) => `${i.instance} pid ${i.pid}`).join(', ')}`,
    `orphans ${r.census.orphans.length}, hung ${r.census.hung.length}, log collectors ${r.census.collectors.length}`,
    `log directory: ${mib(r.logDir.totalBytes)} MiB in ${r.logDir.files.length} files (caps: ${mib(r.logLimits.maxFileBytes)} MiB a file, ${r.logLimits.keepFiles} kept, ${mib(r.logLimits.maxTotalBytes)} MiB in all)`,
    `dropped lines counted: ${r.dropped.counted} (${Object.entries(r.dropped.byInstance)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}); notices still in the logs: ${r.dropped.notices}`,
    `collector counters: ${JSON.stringify(r.collector)}`,
    `daemon RSS max ${mib(r.rss.maxDaemonBytes)} MiB (limit ${mib(r.rss.limitBytes)}), collector RSS max ${mib(r.rss.maxCollectorBytes)} MiB`,
    'RSS by minute (MiB, max of the daemons that ran in it / of the collector):',
  ];
  const byMinute = new Map<number, { daemon: number; collector: number }>();
  for (const s of r.rss.samples) {
    const m = Math.floor(s.atS / 60);
    const cur = byMinute.get(m) ?? { daemon: 0, collector: 0 };
    byMinute.set(m, { daemon: Math.max(cur.daemon, s.daemonBytes ?? 0), collector: Math.max(cur.collector, s.collectorBytes ?? 0) });
  }
  for (const [m, v] of byMinute) lines.push(`  minute ${m}: daemon ${mib(v.daemon)}, collector ${mib(v.collector)}`);
  const violations = chaosViolations(r);
  lines.push(violations.length === 0 ? 'verdict: held' : `verdict: ${violations.length} problem(s):\n  ${violations.join('\n  ')}`);
  return lines.join('\n');
}
