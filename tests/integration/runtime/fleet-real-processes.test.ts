import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LogFiles } from '../../../agents-runtime/src/logs/log-files';
import { parseManifest } from '../../../agents-runtime/src/manifest/parse-manifest';
import { LinuxProcessDriver } from '../../../agents-runtime/src/process/process-driver';
import { isSameProcess } from '../../../agents-runtime/src/process/proc-identity';
import { systemClock } from '../../../agents-runtime/src/supervisor/driver';
import { FleetSupervisor } from '../../../agents-runtime/src/supervisor/fleet-supervisor';
import { createHealthProbe } from '../../../agents-runtime/src/supervisor/health-checks';
import type { SupervisorEvent } from '../../../agents-runtime/src/supervisor/process-supervisor';
import { freePort } from '../../support/free-ports';
import { killMarkedProcesses } from '../../support/kill-marked-processes';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const tmp = makeTempDir('sutazai-fleet-');
const runtimeId = `fleet-test-${process.pid}-${Date.now()}`;

afterAll(() => {
  killMarkedProcesses(runtimeId);
  tmp.remove();
});

const waitFor = makeWaitFor({ timeoutMs: 10_000, pollMs: 25 });

// A tiny HTTP service: listens on base port + replica - 1 and answers /healthz.
const SERVICE = `
const http = require('node:http');
const port = Number(process.argv[2]) + Number(process.env.SUTAZAI_REPLICA || '1') - 1;
http.createServer((q, r) => r.writeHead(q.url === '/healthz' ? 200 : 404).end('ok')).listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

describe('FleetSupervisor with real processes', () => {
  it('starts in dependency order, restarts a killed process, reports bad input, and stops in reverse', async () => {
    const script = path.join(tmp.path, 'service.cjs');
    fs.writeFileSync(script, SERVICE);
    const [corePort, agentPort, webPort] = [await freePort(), await freePort(), await freePort()];
    // the agents listen on agentBase and agentBase + 1 (replica 2)
    const agentBase = agentPort;
    const squatter = net.createServer((socket) => socket.end());
    await new Promise<void>((resolve) => squatter.listen(webPort, '127.0.0.1', resolve));

    const manifest = parseManifest(
      `
version: 1
processes:
  - name: core
    command: ${process.execPath}
    args: [${JSON.stringify(script)}, "${corePort}"]
    backoff: { initial_ms: 200, jitter: 0 }
    health: { type: http, port: ${corePort}, interval_ms: 100, timeout_ms: 500, start_period_ms: 5000 }
    stop: { grace_ms: 2000 }
  - name: agent
    command: ${process.execPath}
    args: [${JSON.stringify(script)}, "${agentBase}"]
    replicas: 2
    depends_on: [core]
    health: { type: tcp, port: ${agentBase}, interval_ms: 100, timeout_ms: 500, start_period_ms: 5000 }
    stop: { grace_ms: 2000 }
  - name: ghost
    command: /definitely/not/installed
    backoff: { initial_ms: 60000 }
  - name: web
    command: ${process.execPath}
    args: [${JSON.stringify(script)}, "${webPort}"]
    backoff: { initial_ms: 60000 }
    health: { type: http, port: ${webPort} }
`,
      'fleet.yaml',
    );
    const driver = new LinuxProcessDriver({ logs: new LogFiles(path.join(tmp.path, 'logs')), runtimeId, timestamps: 'raw' });
    const fleet = new FleetSupervisor({ manifest, driver, probe: createHealthProbe(), clock: systemClock });
    const events: SupervisorEvent[] = [];
    fleet.on((e) => events.push(e));
    const stateOf = (instance: string) => fleet.instance(instance)?.state;
    const pidOf = (instance: string) => fleet.instance(instance)?.snapshot().pid ?? null;

    try {
      fleet.startAll();
      await waitFor('core, agent-1 and agent-2 running', () => ['core', 'agent-1', 'agent-2'].every((i) => stateOf(i) === 'running'));
      const stateEvents = events.flatMap((e) => (e.kind === 'state' ? [e] : []));
      const coreRunning = stateEvents.findIndex((e) => e.instance === 'core' && e.to === 'running');
      const agentStarting = stateEvents.findIndex((e) => e.instance === 'agent-1' && e.to === 'starting');
      expect(coreRunning).toBeGreaterThanOrEqual(0);
      expect(agentStarting).toBeGreaterThan(coreRunning);

      // bad input: each gets an event with code and remedy, and stays supervised in backoff
      const ghostError = await waitFor('ghost error', () => events.find((e) => e.kind === 'error' && e.instance === 'ghost'));
      expect(ghostError).toMatchObject({ code: 'COMMAND_NOT_FOUND', remedy: expect.stringContaining('manifest') });
      const webError = await waitFor('web error', () => events.find((e) => e.kind === 'error' && e.instance === 'web'));
      expect(webError).toMatchObject({ code: 'HEALTH_TARGET_IN_USE' });
      expect(stateOf('ghost')).toBe('backoff');
      expect(stateOf('web')).toBe('backoff');

      // kill core from outside: it is restarted with a new pid and gets healthy again
      const firstPid = pidOf('core');
      if (firstPid === null) throw new Error('core has no pid');
      process.kill(firstPid, 'SIGKILL');
      await waitFor('core back in backoff', () => events.some((e) => e.kind === 'state' && e.instance === 'core' && e.to === 'backoff'));
      await waitFor('core running again', () => stateOf('core') === 'running' && pidOf('core') !== firstPid);
      const crash = events.find((e) => e.kind === 'state' && e.instance === 'core' && e.to === 'backoff');
      expect(crash).toMatchObject({ exit: { signal: 'SIGKILL' } });
      // the agents were left alone
      expect(['agent-1', 'agent-2'].map(stateOf)).toEqual(['running', 'running']);

      const pids = ['core', 'agent-1', 'agent-2'].map((i) => fleet.instance(i)?.snapshot());
      const stopStart = events.length;
      await fleet.stopAll();
      expect(['core', 'agent-1', 'agent-2', 'ghost', 'web'].map(stateOf)).toEqual(['stopped', 'stopped', 'stopped', 'stopped', 'stopped']);
      for (const p of pids) expect(isSameProcess(p?.pid ?? 0, p?.startTime ?? '')).toBe(false);
      const stopped = events.slice(stopStart).flatMap((e) => (e.kind === 'state' && e.to === 'stopped' ? [e.instance] : []));
      expect(stopped.indexOf('agent-1')).toBeLessThan(stopped.indexOf('core'));
      expect(stopped.indexOf('agent-2')).toBeLessThan(stopped.indexOf('core'));
    } finally {
      await fleet.stopAll().catch(() => undefined);
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });
});
