// Steering an installed host's processes and reading their logs, for real: SutazAI
// installed on a test host (root, its own network namespace, OpenSSH), the real runtime,
// core and agents running there; every call through the contract's client, as the CLI
// makes it, and each outcome checked on the host itself (its processes by pid, its log
// files, the install's recorded definition, the fleet's events with who acted).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ApiError, type ApiClient, type FleetLogFollowPayload, type FleetProcessTable } from '../../../electron/contract';
import { queryStore, startInstallBackend, VAULT_PASSPHRASE, type LabBackend } from '../../support/install-lab';
import { installLabFleet, openLabFleet } from '../../support/lab-fleet';
import type { HostTree } from '../../support/release-lab';
import { runSutazaiAsync } from '../../support/run-sutazai';
import { setUpSuite } from '../../support/suite-set-up';
import { makeTempDir } from '../../support/temp-dir';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';
import { makeWaitFor } from '../../support/wait-for';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-process-control-');
const dataDir = path.join(tmp.path, 'data');
const HOST = 'ctl-host';
const INSTALL = 'ctl';
const waitFor = makeWaitFor({ timeoutMs: 120_000, pollMs: 250 });
let host: TestHost;
let tree: HostTree;
let backend: LabBackend;
let hostId = 0;
let installFile = '';
// Names this run's own lines in the agent's log.
const marker = `marker-${randomUUID()}`;

function api(): ApiClient {
  return backend.api;
}

setUpSuite(
  async (defer) => {
    defer(tmp.remove);
    fs.mkdirSync(dataDir, { recursive: true });
    const fleet = await openLabFleet(defer, labRef.lab, { dir: tmp.path, bundleName: 'process-control', hostNames: [HOST] });
    ({ host, tree } = fleet.hosts[0]!);
    backend = await startInstallBackend(dataDir);
    defer(() => backend.close());
    const installed = await installLabFleet(backend, fleet, { install: INSTALL, values: { agents: { replicas_per_host: 2 } } });
    installFile = installed.installFile;
    hostId = installed.hostIds[0]!;
  },
  { setUpMs: 300_000, undoMs: 120_000 },
);

/** Whether a pid is a live process (the test host shares this machine's process table). */
async function aliveOnHost(pid: number): Promise<boolean> {
  const result = await labRef.lab.exec(host, `kill -0 ${pid} 2>/dev/null && echo alive || echo gone`);
  return result.stdout.trim() === 'alive';
}

function agentOf(table: FleetProcessTable) {
  return table.processes.find((p) => p.name === 'agent')!;
}

const table = () => api().call('fleet.processes', { hostId });

const agentLog = () => path.join(tree.logDir, 'agent-1.log');
/** A line as the runtime's stamper writes it. */
const stamped = (at: Date, text: string | Buffer) =>
  Buffer.concat([Buffer.from(`${at.toISOString()} out `), Buffer.isBuffer(text) ? text : Buffer.from(text), Buffer.from('\n')]);

/** The table once every agent instance runs with a pid (after an action the runtime starts them in its own time). */
function agentsRunning(count: number): Promise<FleetProcessTable> {
  return waitFor(`${count} agents running`, async () => {
    const now = await table();
    const agents = agentOf(now).instances;
    return agents.length === count && agents.every((i) => i.state === 'running' && i.pid !== null) ? now : null;
  });
}

describe('the live process table', () => {
  it('lists the core and both agents running, with pid, uptime, restarts, health, CPU and RSS', async () => {
    const now = await agentsRunning(2);
    expect(now).toMatchObject({ hostId, hostName: HOST, installName: INSTALL });
    expect(now.processes.map((p) => [p.name, p.replicas])).toEqual([
      ['core', 1],
      ['agent', 2],
    ]);
    const instances = now.processes.flatMap((p) => p.instances);
    // A process of one replica runs as its own name.
    expect(instances.map((i) => [i.instance, i.replica])).toEqual([
      ['core', 1],
      ['agent-1', 1],
      ['agent-2', 2],
    ]);
    for (const instance of instances) {
      expect(instance).toMatchObject({ state: 'running', health: 'healthy' });
      expect(await aliveOnHost(instance.pid!)).toBe(true);
      expect(instance.uptimeMs).toBeGreaterThanOrEqual(0);
    }
    // The runtime's latest sample gives each running instance its memory.
    const withRss = await waitFor('a sample with RSS', async () => {
      const again = await table();
      const all = again.processes.flatMap((p) => p.instances);
      return all.every((i) => i.rssBytes !== null && i.rssBytes > 0 && i.cpuPercent !== null) ? all : null;
    });
    expect(withRss).toHaveLength(3);
  }, 180_000);
});

describe('start, stop, restart and scale', () => {
  it('restarts every agent instance: new pids, the old ones gone from the host', async () => {
    const before = agentOf(await agentsRunning(2)).instances.map((i) => i.pid!);
    const result = await api().call('fleet.restart', { hostId, process: 'agent' });
    expect(result).toMatchObject({ hostId, process: 'agent', action: 'restart' });
    const after = await waitFor('new agent pids', async () => {
      const agents = agentOf(await table()).instances;
      return agents.every((i) => i.state === 'running' && i.pid !== null && !before.includes(i.pid)) ? agents.map((i) => i.pid!) : null;
    });
    for (const pid of before) expect(await aliveOnHost(pid)).toBe(false);
    for (const pid of after) expect(await aliveOnHost(pid)).toBe(true);
  }, 180_000);

  it('stops the agents (stopped, no pid, their processes gone), then starts them again', async () => {
    const running = agentOf(await agentsRunning(2)).instances.map((i) => i.pid!);
    await api().call('fleet.stop', { hostId, process: 'agent' });
    const stopped = await waitFor('agents stopped', async () => {
      const agents = agentOf(await table()).instances;
      return agents.every((i) => i.state === 'stopped') ? agents : null;
    });
    expect(stopped.map((i) => [i.pid, i.health])).toEqual([
      [null, 'stopped'],
      [null, 'stopped'],
    ]);
    for (const pid of running) expect(await aliveOnHost(pid)).toBe(false);
    // The core was not touched.
    expect((await table()).processes.find((p) => p.name === 'core')!.instances[0]!.state).toBe('running');

    await api().call('fleet.start', { hostId, process: 'agent' });
    const started = agentOf(await agentsRunning(2)).instances;
    for (const instance of started) expect(await aliveOnHost(instance.pid!)).toBe(true);
  }, 180_000);

  it('scales the agents to 3 through the runtime, keeps the core running, and records it in the install definition', async () => {
    const core = (await table()).processes.find((p) => p.name === 'core')!.instances[0]!.pid;
    await api().call('fleet.scale', { hostId, process: 'agent', replicas: 3 });
    const scaled = agentOf(await agentsRunning(3));
    expect(scaled.replicas).toBe(3);
    expect(scaled.instances.map((i) => i.instance)).toEqual(['agent-1', 'agent-2', 'agent-3']);
    expect(await aliveOnHost(scaled.instances[2]!.pid!)).toBe(true);
    // No outage: the core kept its process.
    expect((await table()).processes.find((p) => p.name === 'core')!.instances[0]!.pid).toBe(core);
    const [row] = queryStore<{ definition: string }>(dataDir, 'SELECT definition FROM installs WHERE name = ?', INSTALL);
    expect(JSON.parse(row!.definition).hosts).toEqual([expect.objectContaining({ name: HOST, replicas: { agent: 3 } })]);
  }, 180_000);

  it('keeps the scale when the install is applied again from its file (which still says 2 replicas)', async () => {
    const applied = await backend.installs.apply(installFile);
    expect(applied.hosts.map((h) => [h.host, h.outcome])).toEqual([[HOST, 'installed']]);
    const after = agentOf(await agentsRunning(3));
    expect(after.replicas).toBe(3);
    // The manifest the apply wrote on the host says so too.
    const manifest = parse(fs.readFileSync(path.join(tree.root, 'current', 'etc', 'manifest.yaml'), 'utf8')) as {
      processes: Array<{ name: string; replicas?: number }>;
    };
    expect(manifest.processes.map((p) => [p.name, p.replicas ?? 1])).toEqual([
      ['core', 1],
      ['agent', 3],
    ]);
  }, 240_000);

  it('refuses -1 and 10,000 replicas naming the supported range, and changes nothing', async () => {
    for (const replicas of [-1, 10_000]) {
      const error = await api()
        .call('fleet.scale', { hostId, process: 'agent', replicas })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({ code: 'FLEET_SCALE_OUT_OF_RANGE' });
      expect((error as ApiError).message).toContain(`${replicas}`);
      expect((error as ApiError).message).toContain('0 to 64');
    }
    expect(agentOf(await table()).replicas).toBe(3);
    await expect(api().call('fleet.restart', { hostId, process: 'no-such' })).rejects.toMatchObject({ code: 'FLEET_PROCESS_NOT_FOUND' });
  }, 60_000);

  it('recorded each action as an event with who asked, in order', async () => {
    const page = await api().call('events.list', {
      hostId,
      kinds: ['action.start', 'action.stop', 'action.restart', 'action.scale'],
    });
    const actions = page.events.reverse().map((e) => [e.kind, e.process, e.actor]);
    const actor = `cli:${process.env.USER ?? 'root'}`;
    expect(actions).toEqual([
      ['action.restart', 'agent', actor],
      ['action.stop', 'agent', actor],
      ['action.start', 'agent', actor],
      ['action.scale', 'agent', actor],
    ]);
  }, 30_000);
});

describe('logs', () => {
  it('reads the last lines, since a time, searched as text and as a regular expression', async () => {
    const old = new Date('2020-01-01T00:00:00.000Z');
    const recent = new Date();
    fs.appendFileSync(agentLog(), stamped(old, `${marker} old`));
    fs.appendFileSync(agentLog(), stamped(recent, `${marker} new 1`));
    fs.appendFileSync(agentLog(), stamped(recent, `${marker} new 2`));

    const last = await api().call('fleet.logs', { hostId, instance: 'agent-1', lines: 2 });
    expect(last.lines.map((l) => l.text)).toEqual([`${marker} new 1`, `${marker} new 2`]);
    const plain = await api().call('fleet.logs', { hostId, instance: 'agent-1', search: { pattern: marker } });
    expect(plain.lines.map((l) => l.text)).toEqual([`${marker} old`, `${marker} new 1`, `${marker} new 2`]);
    const since = await api().call('fleet.logs', { hostId, instance: 'agent-1', sinceMs: recent.getTime(), search: { pattern: marker } });
    expect(since.lines.map((l) => l.text)).toEqual([`${marker} new 1`, `${marker} new 2`]);
    const regex = await api().call('fleet.logs', {
      hostId,
      instance: 'agent-1',
      search: { pattern: `^${marker} NEW \\d$`, regex: true, ignoreCase: true },
    });
    expect(regex.lines.map((l) => [l.text, l.atMs, l.stream])).toEqual([
      [`${marker} new 1`, recent.getTime(), 'stdout'],
      [`${marker} new 2`, recent.getTime(), 'stdout'],
    ]);
  }, 60_000);

  it('shows a 1 MB line cut with its length, binary bytes as they are; a catastrophic pattern answers, an invalid one is refused', async () => {
    const long = `${marker}-long ${'a'.repeat(1024 * 1024)}`;
    fs.appendFileSync(agentLog(), stamped(new Date(), long));
    fs.appendFileSync(
      agentLog(),
      stamped(new Date(), Buffer.from([...Buffer.from(`${marker}-bin `), 0x1b, 0x5d, 0x35, 0x32, 0x07, 0x00, 0xff, 0xfe])),
    );

    // (a+)+$ sends a backtracking engine into exponential time on this line; here it is linear.
    const catastrophic = await api().call('fleet.logs', { hostId, instance: 'agent-1', search: { pattern: '(a+)+$', regex: true } });
    expect(catastrophic.lines).toHaveLength(1);
    const [line] = catastrophic.lines;
    expect(line!.text.startsWith(`${marker}-long aaaa`)).toBe(true);
    expect(line!.text.length + line!.cutChars).toBe(long.length);
    expect(line!.cutChars).toBeGreaterThan(1_000_000);

    const binary = await api().call('fleet.logs', { hostId, instance: 'agent-1', search: { pattern: `${marker}-bin` } });
    expect(binary.lines.map((l) => l.text)).toEqual([`${marker}-bin \u001b]52\u0007\u0000\ufffd\ufffd`]);

    await expect(
      api().call('fleet.logs', { hostId, instance: 'agent-1', search: { pattern: '(unclosed', regex: true } }),
    ).rejects.toMatchObject({ code: 'LOG_SEARCH_INVALID' });
    await expect(
      api().call('fleet.logs', { hostId, instance: 'agent-1', search: { pattern: '(a)\\1', regex: true } }),
    ).rejects.toMatchObject({ code: 'LOG_SEARCH_INVALID', message: expect.stringContaining('back-references') });
    // A pattern too large for a 1 MB line in one answer is stopped with its own error; the backend goes on serving.
    await expect(
      api().call('fleet.logs', { hostId, instance: 'agent-1', search: { pattern: '(?:a|aa|aaa|b){1,300}z', regex: true } }),
    ).rejects.toMatchObject({ code: 'LOG_SEARCH_TOO_COSTLY' });
    expect(agentOf(await table()).replicas).toBe(3);
  }, 120_000);

  it('follows an instance: lines written on the host arrive in order, only those matching the search', async () => {
    const got: FleetLogFollowPayload[] = [];
    const unsubscribe = await api().subscribe(
      'fleet.logFollow',
      { hostId, instance: 'agent-1', lines: 0, search: { pattern: `${marker}-follow keep`, regex: false, ignoreCase: false } },
      (payload) => got.push(payload),
    );
    try {
      // The subscription's stream is open once its first line arrives: write until one does.
      await waitFor('the follow to start', async () => {
        fs.appendFileSync(agentLog(), stamped(new Date(), `${marker}-follow keep 0`));
        await new Promise((r) => setTimeout(r, 300));
        return got.length > 0;
      });
      fs.appendFileSync(agentLog(), stamped(new Date(), `${marker}-follow drop`));
      fs.appendFileSync(agentLog(), stamped(new Date(), `${marker}-follow keep 1`));
      fs.appendFileSync(agentLog(), stamped(new Date(), `${marker}-follow keep 2`));
      const texts = await waitFor('keep 2 followed', () => {
        const lines = got.flatMap((p) => (p.kind === 'lines' ? p.lines.map((l) => l.text) : []));
        return lines.includes(`${marker}-follow keep 2`) ? lines : null;
      });
      const kept = texts.filter((t) => !t.endsWith('keep 0'));
      expect(kept).toEqual([`${marker}-follow keep 1`, `${marker}-follow keep 2`]);
      expect(got.some((p) => p.kind === 'ended')).toBe(false);
    } finally {
      await unsubscribe();
    }
  }, 120_000);
});

describe('the command line', () => {
  const env = { SUTAZAI_PASSPHRASE: VAULT_PASSPHRASE };

  it('lists the installs, shows the process table, and refuses scale -1 with the range (exit 2)', async () => {
    const installs = await runSutazaiAsync(['installs', 'list', '--json'], dataDir, { env });
    expect(installs.code, installs.stderr).toBe(0);
    expect(JSON.parse(installs.stdout)).toEqual([
      expect.objectContaining({ name: INSTALL, hosts: [expect.objectContaining({ hostName: HOST })] }),
    ]);

    const ps = await runSutazaiAsync(['ps', HOST], dataDir, { env });
    expect(ps.code, ps.stderr).toBe(0);
    expect(ps.stdout).toMatch(/INSTANCE\s+PROCESS\s+REPLICA\s+STATE\s+HEALTH/);
    expect(ps.stdout).toMatch(/agent-3\s+agent\s+3\s+running\s+healthy/);

    const refused = await runSutazaiAsync(['scale', HOST, 'agent', '-1'], dataDir, { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('FLEET_SCALE_OUT_OF_RANGE');
    expect(refused.stderr).toContain('0 to 64');
  }, 120_000);

  it('prints log lines with their control bytes escaped, and restarts a process as the OS user', async () => {
    const logs = await runSutazaiAsync(['logs', HOST, 'agent-1', '--grep', `${marker}-bin`, '--fixed'], dataDir, { env });
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain(`${marker}-bin \\x1b]52\\x07\\x00`);
    expect(logs.stdout).not.toContain('\u001b');

    const status = await runSutazaiAsync(['status', '--install', INSTALL, '--json'], dataDir, { env });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).hosts).toEqual([expect.objectContaining({ host: HOST, ok: true })]);

    const restarted = await runSutazaiAsync(['restart', HOST, 'core', '--json'], dataDir, { env });
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(JSON.parse(restarted.stdout)).toMatchObject({ process: 'core', action: 'restart' });
    const [last] = (await api().call('events.list', { hostId, kinds: ['action.restart'], limit: 1 })).events;
    expect(last).toMatchObject({ process: 'core', actor: expect.stringMatching(/^cli:/) });
  }, 120_000);

  it('follows a log with -f, one JSON object per line, until Ctrl-C ends it with exit 0', async () => {
    const child = spawn(
      process.execPath,
      [
        path.resolve(__dirname, '../../../bin/sutazai.mjs'),
        'logs',
        HOST,
        'agent-1',
        '-f',
        '--lines',
        '0',
        '--grep',
        `${marker}-cli`,
        '--fixed',
        '--json',
      ],
      {
        env: { ...process.env, SUTAZAI_DATA_DIR: dataDir, ...env },
      },
    );
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      let n = 0;
      const line = await waitFor('the followed line on stdout', async () => {
        fs.appendFileSync(agentLog(), stamped(new Date(), `${marker}-cli ${n++}`));
        await new Promise((r) => setTimeout(r, 300));
        return stdout.split('\n').find((l) => l.includes(`${marker}-cli`));
      });
      expect(JSON.parse(line)).toMatchObject({
        instance: 'agent-1',
        stream: 'stdout',
        text: expect.stringMatching(new RegExp(`^${marker}-cli \\d+$`)),
      });
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  }, 120_000);
});
