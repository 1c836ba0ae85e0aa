// The fleet's events end to end: the shipped daemon (the esbuild bundle, real processes)
// inside a test host's network namespace, reached as the control center reaches it (SSH
// with the host key pinned, a tunnel, gRPC over TLS: fleet/runtime-connection.ts), its
// WatchEvents read by the 'events' link consumer into a real store. A kill -9 is a crash
// event with the instance's last lines; a program that always fails enters crash-loop and
// one that recovers leaves it; a cut watch resumes with nothing lost or repeated, and a
// restarted runtime repeats nothing. Order and content are asserted, never time windows.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventsConsumer } from '../../../electron/backend/fleet/events/events-consumer';
import { createFleetEventLog, type FleetEventLog } from '../../../electron/backend/fleet/events/fleet-event-log';
import type { LinkTarget } from '../../../electron/backend/fleet/link/link-types';
import type { RuntimeConnection } from '../../../electron/backend/fleet/runtime-connection';
import type { Store } from '../../../electron/backend/store/open-store';
import { ApiError, EventsListParamsSchema, type FleetEvent } from '../../../electron/contract';
import { openLabRuntime, openStoreWithLabHost, type LabRuntime } from '../../support/lab-runtime';
import { makeTempDir } from '../../support/temp-dir';
import { logTail } from '../../support/test-hosts/daemon';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';
import { makeWaitFor } from '../../support/wait-for';

const labRef = useTestLab();
const RUNTIME_PORT = 7600;
const tmp = makeTempDir('sutazai-fleet-events-');
const counterFile = path.join(tmp.path, 'phoenix-tries');
const daemonLog = path.join(tmp.path, 'daemon.log');

// victim: killed with kill -9 by the test. doomed: always fails, so it enters crash-loop.
// phoenix: fails three times (crash-loop from the second), then runs and leaves the loop.
// The `sleep 0.2` lets a line reach the log before the exit that reads it.
const MANIFEST = `version: 1
processes:
  - name: victim
    command: sh
    args: ["-c", "echo victim-started; echo 'last words of the victim'; exec sleep 300"]
    backoff: { initial_ms: 200, max_ms: 200, jitter: 0 }
    stop: { grace_ms: 2000 }
  - name: doomed
    command: sh
    args: ["-c", "echo doomed-says-bye; sleep 0.2; exit 7"]
    backoff: { initial_ms: 100, max_ms: 100, jitter: 0 }
    crash_loop: { after_restarts: 2, within_ms: 600000, retry_every_ms: 600000 }
  - name: phoenix
    command: sh
    args: ["-c", "n=$(cat ${counterFile} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${counterFile}; if [ $n -le 3 ]; then echo phoenix-fails-$n; sleep 0.2; exit 1; fi; echo phoenix-rises; exec sleep 300"]
    backoff: { initial_ms: 100, max_ms: 100, jitter: 0, reset_after_ms: 1500 }
    crash_loop: { after_restarts: 1, within_ms: 600000, retry_every_ms: 300 }
    stop: { grace_ms: 2000 }
`;

let labRuntime: LabRuntime | undefined;
let host: TestHost;
let store: Store;
let log: FleetEventLog;
let target: LinkTarget;
const waitFor = makeWaitFor({ timeoutMs: 30_000, pollMs: 50, diagnostics: () => `\n${logTail(daemonLog)}` });

const connect = async (): Promise<RuntimeConnection> => (await labRuntime!.connect()).runtime;

/** The consumer as a link runs it: until aborted (resolves) or until its stream fails (rejects). */
function runConsumer(connection: RuntimeConnection): { stop(): Promise<void>; done: Promise<void> } {
  const abort = new AbortController();
  const done = createEventsConsumer(log).run(target, connection, abort.signal);
  // Handled where a case expects the failure (a runtime shut down under it); not unhandled meanwhile.
  done.catch(() => undefined);
  return {
    done,
    async stop() {
      abort.abort();
      await done;
    },
  };
}

/** Every stored event, oldest first (by time, then as recorded). */
function stored(): FleetEvent[] {
  const all: FleetEvent[] = [];
  let page = log.list(EventsListParamsSchema.parse({}));
  for (;;) {
    all.push(...page.events);
    if (page.next === null) break;
    page = log.list(EventsListParamsSchema.parse({ after: page.next }));
  }
  return all.reverse();
}

/** The runtime events' identities, per run: each run's sequences as stored. */
function sequencesByRun(): Map<number, number[]> {
  const rows = store.db.prepare("SELECT dedup_key FROM fleet_events WHERE origin = 'runtime' ORDER BY id").all() as Array<{
    dedup_key: string;
  }>;
  const runs = new Map<number, number[]>();
  for (const { dedup_key: key } of rows) {
    const [, , run, sequence] = key.split(':');
    runs.set(Number(run), [...(runs.get(Number(run)) ?? []), Number(sequence)]);
  }
  return runs;
}

/** 1, 2, ... n with none missing and none twice: nothing lost, nothing repeated. */
function expectWhole(sequences: number[]): void {
  expect([...sequences].sort((a, b) => a - b)).toEqual(Array.from({ length: sequences.length }, (_, i) => i + 1));
}

const find = (predicate: (e: FleetEvent) => boolean) => () => stored().find(predicate);

beforeAll(async () => {
  labRuntime = await openLabRuntime(labRef.lab, { dir: tmp.path, manifest: MANIFEST, runtimePort: RUNTIME_PORT, callTimeoutMs: 5_000 });
  host = labRuntime.host;
  ({ store, target } = openStoreWithLabHost(tmp.path, host, 'lab'));
  log = createFleetEventLog(store.db);
  await labRuntime.start(daemonLog);
}, 180_000);

afterAll(async () => {
  await labRuntime?.close();
  log?.close();
  store?.close();
  tmp.remove();
});

describe('fleet events from a real runtime', () => {
  let consumer: ReturnType<typeof runConsumer>;
  let connection: RuntimeConnection;

  it('records a kill -9 as a crash event carrying the instance’s last log lines', async () => {
    connection = await connect();
    consumer = runConsumer(connection);
    const victim = await waitFor('the victim running', async () =>
      (await connection.listProcesses()).find((p) => p.name === 'victim')?.instances.find((i) => i.state === 'PROCESS_STATE_RUNNING'),
    );
    process.kill(victim.pid, 'SIGKILL');
    const crash = await waitFor(
      'the victim’s crash event',
      find((e) => e.kind === 'process.exit' && e.instance === 'victim'),
    );
    expect(crash).toMatchObject({ origin: 'runtime', hostId: target.hostId, hostName: host.name, installName: 'lab', process: 'victim' });
    expect(crash.message).toContain('killed by SIGKILL');
    // The lines are kept apart from the one-line message.
    expect(crash.message).not.toContain('last words');
    expect(crash.lastLines.some((line) => line.includes('last words of the victim'))).toBe(true);
    // It comes back: the state it entered after the crash, then running, in that order.
    const events = await waitFor('the victim running again', () => {
      const all = stored();
      const after = all.slice(all.indexOf(all.find((e) => e.id === crash.id)!));
      return after.some((e) => e.kind === 'process.state' && e.instance === 'victim' && e.state === 'running') ? all : undefined;
    });
    const victimStates = events.filter((e) => e.instance === 'victim' && e.kind === 'process.state').map((e) => e.state);
    expect(victimStates.slice(-3)).toEqual(['backoff', 'starting', 'running']);
  });

  it('a program that always fails enters crash-loop, as an event with its last lines', async () => {
    const loop = await waitFor(
      'doomed entering crash-loop',
      find((e) => e.kind === 'process.crash-loop' && e.instance === 'doomed'),
    );
    expect(loop.state).toBe('crash-loop');
    expect(loop.lastLines.some((line) => line.includes('doomed-says-bye'))).toBe(true);
    const doomed = stored().filter((e) => e.instance === 'doomed');
    // Three failures (the third past after_restarts: 2), each an exit event, the crash-loop after the last.
    expect(doomed.filter((e) => e.kind === 'process.exit')).toHaveLength(3);
    expect(doomed.at(-1)?.kind).toBe('process.crash-loop');
  });

  it('one that recovers enters crash-loop and leaves it once it has run stably', async () => {
    const left = await waitFor(
      'phoenix leaving crash-loop',
      find((e) => e.kind === 'process.crash-loop-left' && e.instance === 'phoenix'),
    );
    expect(left.message).toContain('ran for 1500 ms without failing');
    const phoenix = stored().filter((e) => e.instance === 'phoenix' && e.kind.startsWith('process.crash-loop'));
    expect(phoenix.map((e) => e.kind)).toEqual(['process.crash-loop', 'process.crash-loop', 'process.crash-loop-left']);
  });

  it('a cut watch resumes from where it stopped: what happened during the cut is there, nothing twice', async () => {
    await consumer.stop();
    const before = stored().length;
    // During the cut: a restart of the victim, through another connection.
    const other = await connect();
    await other.restartProcess('victim');
    const restartedAt = await waitFor('the victim running after the restart (read directly)', async () => {
      const i = (await other.listProcesses()).find((p) => p.name === 'victim')?.instances[0];
      return i?.state === 'PROCESS_STATE_RUNNING' && Number(i.startedAtMs) > 0 ? i : undefined;
    });
    expect(stored()).toHaveLength(before);

    consumer = runConsumer(await connect());
    const stopping = await waitFor(
      'the restart read back from the ring',
      find((e) => e.instance === 'victim' && e.state === 'stopping'),
    );
    await waitFor('the victim running again, read back', () =>
      stored().some((e) => e.id > stopping.id && e.instance === 'victim' && e.state === 'running'),
    );
    expect(restartedAt.pid).toBeGreaterThan(0);
    const runs = sequencesByRun();
    expect(runs.size).toBe(1);
    expectWhole([...runs.values()][0]!);
  });

  it('a restarted runtime repeats none of its events: a new run, its sequences whole from 1', async () => {
    const [oldRun, oldSequences] = [...sequencesByRun()][0]!;
    // SIGTERM leaves the processes running (re-adopted by the next daemon).
    const daemon = labRuntime!.daemon!;
    process.kill(-daemon.pid, 'SIGTERM');
    await daemon.exited;
    const ended = await consumer.done.then(
      () => null,
      (error: unknown) => error,
    );
    expect(ended).toBeInstanceOf(ApiError);
    await labRuntime!.start(daemonLog);
    consumer = runConsumer(await connect());
    // The new run's events: the doomed program, started again, fails again.
    const newRunEvents = (): Array<{ kind: string; instance: string | null }> =>
      store.db
        .prepare("SELECT kind, instance FROM fleet_events WHERE origin = 'runtime' AND dedup_key NOT LIKE ? ORDER BY id")
        .all(`runtime:${target.hostId}:${oldRun}:%`) as Array<{ kind: string; instance: string | null }>;
    await waitFor('doomed failing again in the new run', () =>
      newRunEvents().some((e) => e.kind === 'process.exit' && e.instance === 'doomed'),
    );
    const runs = sequencesByRun();
    expect(runs.get(oldRun)).toEqual(oldSequences);
    const [newRun, newSequences] = [...runs].find(([run]) => run !== oldRun)!;
    expect(newRun).toBeGreaterThan(oldRun);
    expectWhole(newSequences);
    await consumer.stop();
  });
});
