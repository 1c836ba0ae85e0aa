// `sutazai events` as an operator runs it: the CLI in its own process over a data directory
// whose store holds what a serving backend recorded (a runtime's crash with its last lines,
// a link going down, an operator action with its actor), oldest first, filtered by time and
// host; -f follows what another process records, once each, until Ctrl-C.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeEvent__Output } from '../../../agents-runtime/src/wire';
import { createFleetEventLog } from '../../../electron/backend/fleet/events/fleet-event-log';
import type { LinkTarget } from '../../../electron/backend/fleet/link/link-types';
import { openStore } from '../../../electron/backend/store/open-store';
import type { FleetEvent } from '../../../electron/contract';
import { runSutazai } from '../../support/run-sutazai';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const dir = makeTempDir('sutazai-events-cli-');
const dataDir = path.join(dir.path, 'data');
const sutazai = (args: string[], env: Record<string, string> = {}) => runSutazai(args, dataDir, env);
const waitFor = makeWaitFor({ timeoutMs: 30_000, pollMs: 50 });
const HOUR = 3_600_000;
let alpha: LinkTarget;

/** Records as a serving backend on this data directory would, from this process. */
function record(write: (log: ReturnType<typeof createFleetEventLog>) => void): void {
  const store = openStore({ dataDir });
  const log = createFleetEventLog(store.db);
  try {
    write(log);
  } finally {
    log.close();
    store.close();
  }
}

function crash(atMs: number): RuntimeEvent__Output {
  return {
    atMs: String(atMs),
    kind: 'process.exit',
    process: 'agent',
    instance: 'agent-2',
    state: 'PROCESS_STATE_BACKOFF',
    message: 'agent-2 killed by SIGKILL; now backoff\nlast log lines:\ntask 41 done\ntask 42 started',
    error: null,
    runStartedAtMs: '1000',
    sequence: '7',
    lastLines: ['task 41 done', 'task 42 started'],
  };
}

beforeAll(() => {
  // Builds the command once (and makes the data directory) before the cases.
  const first = sutazai(['events', '--json']);
  expect(first.stderr).toBe('');
  expect(first.code).toBe(0);
  expect(JSON.parse(first.stdout)).toEqual([]);
  const store = openStore({ dataDir });
  const hostId = Number(
    store.db.prepare("INSERT INTO hosts (name, kind, address, created_at) VALUES ('alpha', 'ssh', '192.0.2.7', 1)").run().lastInsertRowid,
  );
  store.db.prepare("INSERT INTO hosts (name, kind, address, created_at) VALUES ('beta', 'ssh', '192.0.2.8', 1)").run();
  store.close();
  alpha = { installName: 'lab', hostId, hostName: 'alpha' };
  const now = Date.now();
  record((log) => {
    log.append({ kind: 'link.up', origin: 'link', target: alpha, message: 'alpha is online', actor: null, atMs: now - 2 * HOUR });
    log.appendRuntime(alpha, crash(now - 3 * 60_000));
    log.append({
      kind: 'link.down',
      origin: 'link',
      target: alpha,
      message: 'alpha is offline: the tunnel closed',
      error: { code: 'RUNTIME_UNREACHABLE', message: 'the tunnel closed', remedy: 'check that sshd runs on alpha' },
      actor: null,
      atMs: now - 2 * 60_000,
    });
    log.append({
      kind: 'action.restart',
      origin: 'operator',
      target: alpha,
      process: 'agent',
      message: 'restart agent',
      actor: 'cli:ops',
      atMs: now - 60_000,
    });
  });
});
afterAll(() => dir.remove());

describe('sutazai events', () => {
  it('prints the events oldest first, a crash with its last lines, a failure with its remedy, an action with who did it', () => {
    const json = sutazai(['events', '--json']);
    expect(json.code).toBe(0);
    const events = JSON.parse(json.stdout) as FleetEvent[];
    expect(events.map((e) => e.kind)).toEqual(['link.up', 'process.exit', 'link.down', 'action.restart']);
    expect(events[1]).toMatchObject({
      hostName: 'alpha',
      instance: 'agent-2',
      state: 'backoff',
      message: 'agent-2 killed by SIGKILL; now backoff',
      lastLines: ['task 41 done', 'task 42 started'],
    });
    expect(events[3]).toMatchObject({ actor: 'cli:ops', origin: 'operator' });

    const text = sutazai(['events']);
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines.map((l) => /\s(link\.up|process\.exit|link\.down|action\.restart)\s/.exec(l)?.[1]).filter(Boolean)).toEqual([
      'link.up',
      'process.exit',
      'link.down',
      'action.restart',
    ]);
    const crashAt = lines.findIndex((l) => l.includes('process.exit'));
    expect(lines[crashAt]).toContain('alpha agent-2');
    expect(lines.slice(crashAt + 1, crashAt + 3)).toEqual(['    | task 41 done', '    | task 42 started']);
    expect(text.stdout).toContain('    remedy: check that sshd runs on alpha');
    expect(text.stdout).toContain('restart agent (by cli:ops)');
  });

  it('--since takes a span back from now or a time; --host narrows to a host', () => {
    const recent = JSON.parse(sutazai(['events', '--since', '10m', '--json']).stdout) as FleetEvent[];
    expect(recent.map((e) => e.kind)).toEqual(['process.exit', 'link.down', 'action.restart']);
    const fromCrash = recent[0]!.atMs + 1;
    const later = JSON.parse(sutazai(['events', '--since', new Date(fromCrash).toISOString(), '--json']).stdout) as FleetEvent[];
    expect(later.map((e) => e.kind)).toEqual(['link.down', 'action.restart']);
    expect(JSON.parse(sutazai(['events', '--host', 'beta', '--json']).stdout)).toEqual([]);
    expect((JSON.parse(sutazai(['events', '--host', 'alpha', '--json']).stdout) as FleetEvent[]).length).toBe(4);
  });

  it('refuses a --since it cannot read, a host it does not know, and a retention out of range, each with a remedy', () => {
    const since = sutazai(['events', '--since', 'yesterday-ish']);
    expect(since.code).toBe(2);
    expect(since.stderr).toContain('error BAD_PARAMS');
    expect(since.stderr).toContain('remedy:');
    const host = sutazai(['events', '--host', 'nowhere']);
    expect(host.code).toBe(3);
    expect(host.stderr).toContain('error HOST_NOT_FOUND');
    const retention = sutazai(['events'], { SUTAZAI_EVENTS_MAX_COUNT: '10' });
    expect(retention.code).toBe(2);
    expect(retention.stderr).toContain('error EVENTS_RETENTION_INVALID');
    expect(retention.stderr).toContain('remedy: Set SUTAZAI_EVENTS_MAX_COUNT to a whole number from 1000');
  });

  it('-f prints what is there, then each event another process records, once, until Ctrl-C', async () => {
    const child = spawn(process.execPath, [path.resolve(__dirname, '../../../bin/sutazai.mjs'), 'events', '-f', '--json'], {
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SUTAZAI_'))), SUTAZAI_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const kinds = (): string[] =>
      stdout
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => (JSON.parse(l) as FleetEvent).kind);
    try {
      await waitFor('the events already there', () => kinds().length === 4);
      record((log) => {
        log.append({
          kind: 'action.scale',
          origin: 'operator',
          target: alpha,
          process: 'agent',
          message: 'scale agent to 3',
          actor: 'desktop',
        });
        log.appendRuntime(alpha, { ...crash(Date.now()), sequence: '8', instance: 'agent-3', message: 'agent-3 exited with code 1' });
        // A repeat from the runtime's ring: not recorded, not printed.
        log.appendRuntime(alpha, crash(Date.now()));
      });
      await waitFor('the new events, followed', () => kinds().length === 6);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    expect(stderr).toBe('');
    expect(kinds()).toEqual(['link.up', 'process.exit', 'link.down', 'action.restart', 'action.scale', 'process.exit']);
    expect((JSON.parse(stdout.trimEnd().split('\n').at(-1)!) as FleetEvent).instance).toBe('agent-3');
  });
});
