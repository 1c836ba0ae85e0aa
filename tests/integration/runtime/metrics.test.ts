// The runtime's metrics against the real /proc of this machine, real child processes, the
// real loopback HTTP endpoint and Debian's promtool.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startMetricsHttp } from '../../../agents-runtime/src/metrics/metrics-http';
import { createMetricsService, type MetricsService } from '../../../agents-runtime/src/metrics/metrics-service';
import type { ProcessInfo } from '../../../agents-runtime/src/metrics/process-sampler';
import type { MetricSample } from '../../../agents-runtime/src/metrics/metric-sample';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const PROMTOOL = '/usr/bin/promtool';
const INTERVAL_MS = 50;
const tmp = makeTempDir('sutazai-metrics-');
const children: ChildProcess[] = [];
const services: MetricsService[] = [];

/** Kills the child's whole process group (it leads one). */
function killGroup(child: ChildProcess): void {
  for (const target of [-(child.pid ?? 0), child.pid ?? 0]) {
    try {
      if (target !== 0) process.kill(target, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

afterAll(() => {
  for (const s of services) s.stop();
  for (const child of children) killGroup(child);
  tmp.remove();
});

const waitFor = makeWaitFor({ timeoutMs: 10_000, pollMs: 20 });

/**
 * An instance as the supervisor starts it: the leader of its own process group (detached),
 * here a node process holding 64 MiB and a `sleep` child in the same group.
 */
function startInstance(script: string): ChildProcess {
  const child = spawn(process.execPath, ['-e', script], { detached: true, stdio: 'ignore' });
  children.push(child);
  return child;
}

const HOLDER = `
  const held = Buffer.alloc(64 * 1024 * 1024, 1);
  require('node:child_process').spawn('sleep', ['60'], { stdio: 'ignore' });
  setInterval(() => held[0]++, 1000);
`;
const SPINNER = 'for (;;) {}';

/** A service ticking every INTERVAL_MS whether or not anyone subscribes (what is sampled is the point here, not when). */
function service(processes: () => ProcessInfo[] = () => []): MetricsService {
  const s = createMetricsService({ intervalMs: INTERVAL_MS, unwatchedIntervalMs: INTERVAL_MS, gpu: false, processes });
  services.push(s);
  return s;
}

function statusField(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]);
}

/** CPU seconds a process has used so far (utime + stime of /proc/PID/stat, in clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function groupMembers(pgrp: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        const text = fs.readFileSync(`/proc/${n}/stat`, 'utf8');
        return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[2]) === pgrp;
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('metrics from the real /proc', () => {
  it('host values are sane: CPU 0..100 per core, memory total = os.totalmem(), filesystems', async () => {
    const s = service();
    s.start();
    const sample = await waitFor('two samples', () => (s.since(0).length >= 2 ? s.latest() : null));
    s.stop();
    const h = sample.host;
    expect(h.perCorePercent).toHaveLength(os.cpus().length);
    for (const p of [h.cpuPercent, ...h.perCorePercent]) {
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(100);
    }
    expect(h.memoryTotalBytes).toBe(os.totalmem());
    expect(h.memoryUsedBytes).toBeGreaterThan(0);
    expect(h.memoryUsedBytes).toBeLessThanOrEqual(h.memoryTotalBytes);
    expect(h.swapUsedBytes).toBeLessThanOrEqual(h.swapTotalBytes);
    expect(h.loadOneMinute).toBeGreaterThanOrEqual(0);
    for (const rate of [h.diskReadBytesPerSec, h.diskWriteBytesPerSec, h.netRxBytesPerSec, h.netTxBytesPerSec])
      expect(rate).toBeGreaterThanOrEqual(0);
    expect(h.filesystems.length).toBeGreaterThan(0);
    for (const f of h.filesystems) expect(f.usedBytes).toBeLessThanOrEqual(f.totalBytes);
    expect(h.gpus).toEqual([]);
  });

  it("an instance's RSS, threads and open files are its process group's; CPU of a busy one shows", async () => {
    const holder = startInstance(HOLDER);
    const spinner = startInstance(SPINNER);
    try {
      const startedAtMs = Date.now();
      const info = (): ProcessInfo[] => [
        { instance: 'agent-1', process: 'agent', pid: holder.pid!, restarts: 2, startedAtMs },
        { instance: 'agent-2', process: 'agent', pid: spinner.pid!, restarts: 0, startedAtMs },
        { instance: 'core-1', process: 'core', pid: null, restarts: 7, operatorRestarts: 1, startedAtMs: null },
      ];
      // Both groups complete: the holder's sleep child exists and its 64 MiB are resident.
      await waitFor('the holder group', () => groupMembers(holder.pid!).length === 2 && statusField(holder.pid!, 'VmRSS') > 64 * 1024);
      const s = service(info);
      const spinnerCpuAtStart = cpuSeconds(spinner.pid!);
      const wallAtStart = performance.now();
      s.start();
      const samples = await waitFor('ten samples', () => (s.since(0).length >= 10 ? s.since(0) : null));
      s.stop();
      const spinnerCpuPercent = ((cpuSeconds(spinner.pid!) - spinnerCpuAtStart) / ((performance.now() - wallAtStart) / 1000)) * 100;

      const members = groupMembers(holder.pid!);
      const last = samples.at(-1)!;
      const [agent1, agent2, core1] = last.instances;
      expect(agent1).toMatchObject({ instance: 'agent-1', process: 'agent', pid: holder.pid, restarts: 2 });
      expect(agent1!.rssBytes).toBeGreaterThan(64 * 2 ** 20);
      // The group: node's threads plus the sleep's one.
      const threads = members.reduce((sum, pid) => sum + statusField(pid, 'Threads'), 0);
      expect(agent1!.threads).toBe(threads);
      expect(agent1!.threads).toBe(statusField(holder.pid!, 'Threads') + 1);
      expect(agent1!.openFiles).toBeGreaterThanOrEqual(3);
      expect(agent1!.uptimeMs).toBeGreaterThan(0);
      expect(core1).toEqual({
        instance: 'core-1',
        process: 'core',
        pid: null,
        cpuPercent: 0,
        rssBytes: 0,
        threads: 0,
        openFiles: null,
        restarts: 7,
        operatorRestarts: 1,
        uptimeMs: null,
      });
      // A spinning process gets what the machine leaves it (a whole core when idle, a tenth of
      // one on a loaded CI machine), so its figure is checked against what the kernel says it
      // used over the same window, not against a fixed share; the idle holder stays near zero.
      const spin = samples.slice(1).map((x) => x.instances[1]!.cpuPercent);
      const meanSpin = spin.reduce((a, b) => a + b, 0) / spin.length;
      expect(spinnerCpuPercent).toBeGreaterThan(0);
      expect(meanSpin).toBeGreaterThan(spinnerCpuPercent / 3);
      expect(meanSpin).toBeLessThan(spinnerCpuPercent * 3 + 5);
      const meanHold = samples.slice(1).reduce((a, x) => a + x.instances[0]!.cpuPercent, 0) / spin.length;
      expect(meanSpin).toBeGreaterThan(meanHold);
      expect(agent2!.threads).toBeGreaterThan(0);
    } finally {
      killGroup(holder);
      killGroup(spinner);
    }
  });

  it('reports the cost of one tick (informational, not a pass/fail timing)', async () => {
    const child = startInstance(HOLDER);
    const s = service(() => [{ instance: 'agent-1', process: 'agent', pid: child.pid!, restarts: 0, startedAtMs: Date.now() }]);
    const costs: number[] = [];
    try {
      s.start();
      await waitFor('20 ticks', () => {
        const ms = s.lastTickMs();
        if (ms !== null && costs.length < s.since(0).length) costs.push(ms);
        return costs.length >= 20;
      });
    } finally {
      s.stop();
      killGroup(child);
    }
    costs.sort((a, b) => a - b);
    const procs = fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
    console.log(
      `metrics tick: median ${costs[10]!.toFixed(2)} ms, max ${costs.at(-1)!.toFixed(2)} ms, ${procs} processes in /proc, ${os.cpus().length} cores`,
    );
    expect(costs.length).toBe(20);
  });
});

describe('backfill after a reconnect', () => {
  it('since() returns every sample after the last one seen: no gap, no duplicate', async () => {
    const s = service();
    s.start();
    // A client streams live, then its connection drops.
    const seen: MetricSample[] = [];
    const unsubscribe = s.subscribe((x) => seen.push(x));
    await waitFor('five live samples', () => seen.length >= 5);
    unsubscribe();
    unsubscribe(); // safe twice
    const lastSeen = seen.at(-1)!.atMs;
    // It is away for ~8 intervals, reconnects with since = last seen + 1, gets its gap, then live ones.
    const away = s.since(0).length;
    await waitFor('samples while away', () => s.since(0).length >= away + 8);
    const resumed: MetricSample[] = [];
    const stop = s.stream(lastSeen + 1, (x) => resumed.push(x));
    const backfilled = resumed.length;
    expect(backfilled).toBeGreaterThanOrEqual(8);
    await waitFor('live samples after the backfill', () => resumed.length >= backfilled + 3);
    stop();
    s.stop();

    const all = [...seen, ...resumed].map((x) => x.atMs);
    // Exactly what the buffer holds from the first sample seen on: nothing missing, nothing twice.
    const buffered = s.since(seen[0]!.atMs).map((x) => x.atMs);
    expect(all).toEqual(buffered.slice(0, all.length));
    const gaps = all.slice(1).map((t, i) => t - all[i]!);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThan(0);
      // A tick delayed by a loaded CI machine skips its missed slots; completeness is the equality above.
      expect(gap).toBeLessThan(INTERVAL_MS * 10);
    }
    const sorted = [...gaps].sort((a, b) => a - b);
    expect(Math.abs(sorted[Math.floor(sorted.length / 2)]! - INTERVAL_MS)).toBeLessThanOrEqual(INTERVAL_MS / 2);
  });

  it('keeps `capacity` samples, dropping the oldest', async () => {
    const s = createMetricsService({ intervalMs: 20, capacity: 5, gpu: false });
    services.push(s);
    s.start();
    const firsts: number[] = [];
    const stop = s.subscribe((x) => firsts.push(x.atMs));
    await waitFor('eight samples', () => firsts.length >= 8);
    stop();
    s.stop();
    expect(s.since(0).map((x) => x.atMs)).toEqual(firsts.slice(-5));
  });

  it('afterTick runs on the same wake-up, after each sample is published (the daemon hangs its log rotator pass on it)', async () => {
    const order: string[] = [];
    const s = createMetricsService({ intervalMs: 20, gpu: false, afterTick: () => order.push('after') });
    services.push(s);
    s.subscribe(() => order.push('sample'));
    s.start();
    await waitFor('three ticks', () => order.filter((o) => o === 'after').length >= 3);
    s.stop();
    expect(order.slice(0, 6)).toEqual(['sample', 'after', 'sample', 'after', 'sample', 'after']);
  });

  it('the timer does not keep the process alive by itself', async () => {
    const script = path.join(tmp.path, 'alone.mts');
    const service = path.resolve('agents-runtime/src/metrics/metrics-service.ts');
    fs.writeFileSync(
      script,
      `import { createMetricsService } from ${JSON.stringify(service)};\n` +
        `const s = createMetricsService({ intervalMs: 50, unwatchedIntervalMs: 50, gpu: false });\n` +
        `s.start();\n` +
        `setTimeout(() => { console.log(s.since(0).length > 0 ? 'sampled' : 'no samples'); }, 300);\n`,
    );
    const tsx = path.resolve('node_modules/.bin/tsx');
    const result = spawnSync(tsx, [script], { encoding: 'utf8', timeout: 20_000 });
    expect(result.signal, 'killed by the timeout: the sampler kept the process alive').toBeNull();
    expect(result.stdout.trim()).toBe('sampled');
    expect(result.status).toBe(0);
  });
});

describe('watched and unwatched', () => {
  /** Samples arrive far apart while nobody watches: none comes during a test unless brought forward. */
  const UNWATCHED_MS = 600_000;

  it('ticks every intervalMs while anyone subscribes, brought forward by the first subscriber, and stops that once the last leaves', async () => {
    const s = createMetricsService({ intervalMs: 20, unwatchedIntervalMs: UNWATCHED_MS, gpu: false });
    services.push(s);
    s.start();
    expect(s.watched()).toBe(false);
    // Without the first subscriber bringing the tick forward, the first sample would come in ten minutes.
    const first: number[] = [];
    const leaveFirst = s.subscribe((x) => first.push(x.atMs));
    expect(s.watched()).toBe(true);
    await waitFor('three samples while watched', () => first.length >= 3);

    // A second watcher, then both leave: no more ticks (at most the one already due).
    const second: number[] = [];
    const leaveSecond = s.stream(0, (x) => second.push(x.atMs));
    await waitFor('a sample for the second watcher', () => second.length >= 1);
    leaveFirst();
    expect(s.watched()).toBe(true);
    leaveSecond();
    leaveSecond(); // safe twice, and counts once
    expect(s.watched()).toBe(false);
    const left = s.since(0).length;
    // Twenty watched intervals: a machine however busy takes fewer samples, never more.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(s.since(0).length).toBeLessThanOrEqual(left + 1);

    // Watched again: samples come again at once.
    const again: number[] = [];
    const leaveAgain = s.subscribe((x) => again.push(x.atMs));
    await waitFor('samples once watched again', () => again.length >= 2);
    leaveAgain();
    s.stop();
  });

  it('unwatchedIntervalMs is a whole multiple of intervalMs, and at least one', async () => {
    // 30 ms unwatched with a 20 ms tick becomes 40: both fall on one grid, so a watcher's arrival never shifts it.
    expect(() => createMetricsService({ intervalMs: 20, unwatchedIntervalMs: 0, gpu: false })).toThrow(RangeError);
    const s = createMetricsService({ intervalMs: 20, unwatchedIntervalMs: 30, gpu: false });
    services.push(s);
    s.start();
    await waitFor('four unwatched samples', () => s.since(0).length >= 4);
    s.stop();
    const taken = s.since(0).map((x) => x.atMs);
    const gaps = taken.slice(1).map((t, i) => t - taken[i]!);
    // Each gap is a whole number of 40 ms slots (a late tick skips slots); never 20 or 30.
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(35);
  });

  it('freshSample: the latest while younger than intervalMs, else one taken now and kept; nothing before start', async () => {
    const slow = createMetricsService({ intervalMs: 600_000, unwatchedIntervalMs: UNWATCHED_MS, gpu: false });
    services.push(slow);
    expect(slow.freshSample()).toBeNull();
    slow.start();
    const taken = slow.freshSample();
    expect(taken).not.toBeNull();
    expect(slow.since(0)).toEqual([taken]);
    // Asked again within the interval: the same sample, nothing taken.
    expect(slow.freshSample()).toBe(taken);
    expect(slow.since(0)).toHaveLength(1);
    slow.stop();
    expect(slow.freshSample()).toBe(taken);

    const quick = createMetricsService({ intervalMs: 100, unwatchedIntervalMs: UNWATCHED_MS, gpu: false });
    services.push(quick);
    quick.start();
    const one = quick.freshSample();
    await new Promise((resolve) => setTimeout(resolve, 150));
    const two = quick.freshSample();
    expect(two).not.toBe(one);
    expect(quick.since(0)).toEqual([one, two]);
    quick.stop();
  });
});

describe('/metrics and /healthz on loopback', () => {
  it('a scrape while nobody watches reads the present: a sample taken for it, not the last tick', async () => {
    const child = startInstance(HOLDER);
    // Nobody subscribes and the unwatched tick is ten minutes away: only a scrape can take a sample.
    const s = createMetricsService({
      intervalMs: 60_000,
      unwatchedIntervalMs: 600_000,
      gpu: false,
      processes: () => [{ instance: 'agent-1', process: 'agent', pid: child.pid!, restarts: 0, startedAtMs: Date.now() }],
    });
    services.push(s);
    s.start();
    const http = await startMetricsHttp({ port: 0, metrics: s, healthy: () => true });
    try {
      expect(s.since(0)).toHaveLength(0);
      const scrape = async (): Promise<string> =>
        (await fetch(`http://127.0.0.1:${http.port}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
      expect(await scrape()).toMatch(/^sutazai_process_up\{sutazai_instance="agent-1",process="agent"\} 1$/m);
      expect(s.since(0)).toHaveLength(1);
      // Scraped again within the interval: the same sample, none taken.
      await scrape();
      expect(s.since(0)).toHaveLength(1);
    } finally {
      await http.close();
      s.stop();
    }
  });

  it('serves text that passes promtool check metrics, health as 200/503, 404 otherwise', async () => {
    expect(fs.existsSync(PROMTOOL), `${PROMTOOL} is missing. Remedy: apt-get install prometheus (scripts/test.sh does)`).toBe(true);
    const child = startInstance(HOLDER);
    const s = service(() => [
      { instance: 'agent-1', process: 'agent', pid: child.pid!, restarts: 1, startedAtMs: Date.now() - 1000 },
      // Label values that need escaping, and an instance that is not running.
      { instance: 'odd "one" \\ x', process: 'agent\nnew', pid: null, restarts: 0, startedAtMs: null },
    ]);
    s.start();
    await waitFor('a sample', () => s.latest());
    let healthy = true;
    const http = await startMetricsHttp({ port: 0, metrics: s, healthy: () => healthy });
    try {
      const base = `http://127.0.0.1:${http.port}`;
      const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5_000) });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const text = await res.text();
      expect(text).toContain(`sutazai_process_rss_bytes{sutazai_instance="agent-1",process="agent"} `);
      expect(text).toContain('sutazai_process_up{sutazai_instance="odd \\"one\\" \\\\ x",process="agent\\nnew"} 0');
      expect(text).toMatch(/^sutazai_host_cpu_percent \d/m);

      const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 10_000 });
      expect(`${check.stdout}${check.stderr}`).toBe('');
      expect(check.status).toBe(0);

      const health = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5_000) });
      expect([health.status, await health.text()]).toEqual([200, 'ok\n']);
      healthy = false;
      const sick = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5_000) });
      expect(sick.status).toBe(503);
      const missing = await fetch(`${base}/nope`, { signal: AbortSignal.timeout(5_000) });
      expect(missing.status).toBe(404);
      await missing.text();
      const post = await fetch(`${base}/metrics`, { method: 'POST', signal: AbortSignal.timeout(5_000) });
      expect(post.status).toBe(405);
      await post.text();
    } finally {
      await http.close();
      s.stop();
      killGroup(child);
    }
  });

  it('promtool itself fails on broken exposition (the check is real)', () => {
    const check = spawnSync(PROMTOOL, ['check', 'metrics'], {
      input: '# TYPE x_total counter\nx_total{a="b} 1\n',
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(check.status).not.toBe(0);
  });

  it('cuts a client that never finishes its headers (the server made at the first connection enforces its timeouts)', async () => {
    const http = await startMetricsHttp({ port: 0, metrics: { freshSample: () => null }, healthy: () => true, headersTimeoutMs: 300 });
    const socket = net.connect(http.port, '127.0.0.1');
    try {
      let answer = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.write('GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      // Bounded by the test's own timeout; the server cuts it well before.
      await closed;
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      // The port still serves the next client.
      const res = await fetch(`http://127.0.0.1:${http.port}/healthz`, { signal: AbortSignal.timeout(5_000) });
      expect(res.status).toBe(200);
    } finally {
      socket.destroy();
      await http.close();
    }
  });

  it('listens on 127.0.0.1 by default', async () => {
    const http = await startMetricsHttp({ port: 0, metrics: { freshSample: () => null }, healthy: () => true });
    try {
      const addresses = Object.values(os.networkInterfaces())
        .flat()
        .filter((a) => a && a.family === 'IPv4' && !a.internal);
      for (const a of addresses) {
        const reached = await fetch(`http://${a!.address}:${http.port}/healthz`, { signal: AbortSignal.timeout(2_000) }).then(
          () => true,
          () => false,
        );
        expect(reached, `reachable on ${a!.address}`).toBe(false);
      }
      const res = await fetch(`http://127.0.0.1:${http.port}/metrics`, { signal: AbortSignal.timeout(5_000) });
      expect([res.status, await res.text()]).toEqual([200, '']);
    } finally {
      await http.close();
    }
  });
});
