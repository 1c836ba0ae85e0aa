// The runtime's streams and controls as the control center uses them: the shipped daemon
// (the esbuild bundle, real processes) inside a test host's network namespace, listening
// on that namespace's loopback only, reached through ssh2 with the host key pinned and an
// SSH tunnel, gRPC over TLS on top (fleet/runtime-connection.ts). Streams have no deadline,
// end quietly when cancelled, and fail with the same explained ApiError as unary calls.
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, type ErrorCode } from '../../../electron/contract';
import type { SshSession } from '../../../electron/backend/hosts/ssh/connect-ssh';
import type { RuntimeConnection, RuntimeStream } from '../../../electron/backend/fleet/runtime-connection';
import type { RuntimeEvent__Output } from '../../../agents-runtime/src/wire';
import { openLabRuntime, type LabRuntime } from '../../support/lab-runtime';
import type { Pem } from '../../support/runtime-certs';
import { logTail } from '../../support/test-hosts/daemon';
import { useTestLab } from '../../support/test-hosts/use-test-lab';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const labRef = useTestLab();
const RUNTIME_PORT = 7600;
const CALL_TIMEOUT_MS = 2_000;

const MANIFEST = `version: 1
processes:
  - name: talker
    command: sh
    args: ["-c", "i=0; while :; do i=$((i+1)); echo \\"line $i\\"; sleep 0.1; done"]
    stop: { grace_ms: 2000 }
  - name: worker
    command: sh
    args: ["-c", "exec sleep 300"]
    stop: { grace_ms: 2000 }
`;

const tmp = makeTempDir('sutazai-fleet-streams-');
let labRuntime: LabRuntime | undefined;
const waitFor = makeWaitFor({
  timeoutMs: 30_000,
  pollMs: 50,
  diagnostics: () => `\n${labRuntime?.daemon ? logTail(labRuntime.daemon.logFile) : ''}`,
});

const connect = (pem?: Pem): Promise<{ session: SshSession; runtime: RuntimeConnection }> => labRuntime!.connect({ pem });

/** How a stream's loop ended: normally, or with the ApiError it threw (checked to be one, with a remedy). */
async function drain<T>(stream: RuntimeStream<T>, onMessage: (message: T) => boolean | void = () => {}): Promise<ApiError | null> {
  let thrown: unknown = null;
  try {
    for await (const message of stream) if (onMessage(message) === true) break;
  } catch (error) {
    thrown = error;
  }
  if (thrown === null) return null;
  expect(thrown).toBeInstanceOf(ApiError);
  expect((thrown as ApiError).remedy.length).toBeGreaterThan(20);
  return thrown as ApiError;
}

/** The first `count` messages of a stream, then the stream is left (which cancels it). */
async function first<T>(stream: RuntimeStream<T>, count: number): Promise<T[]> {
  const got: T[] = [];
  const ended = await drain(stream, (message) => got.push(message) >= count);
  expect(ended).toBeNull();
  return got;
}

async function rejection(promise: Promise<unknown>, code: ErrorCode): Promise<ApiError> {
  const outcome = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(outcome, `expected ${code}`).toBeInstanceOf(ApiError);
  expect((outcome as ApiError).code).toBe(code);
  expect((outcome as ApiError).remedy.length).toBeGreaterThan(20);
  return outcome as ApiError;
}

beforeAll(async () => {
  labRuntime = await openLabRuntime(labRef.lab, {
    dir: tmp.path,
    manifest: MANIFEST,
    runtimePort: RUNTIME_PORT,
    callTimeoutMs: CALL_TIMEOUT_MS,
  });
  // In the host's namespace: its 127.0.0.1 is not this process's, so only the tunnel reaches it.
  await labRuntime.start(path.join(tmp.path, 'daemon.log'));
}, 180_000);

afterEach(async () => {
  await labRuntime?.closeConnections();
});

afterAll(async () => {
  await labRuntime?.close();
  tmp.remove();
});

describe('streams from a runtime through an SSH tunnel', () => {
  it('streams metric samples past the call deadline, and backfills the same samples from a since-point', async () => {
    const { runtime } = await connect();
    const live: number[] = [];
    // No deadline: a stream still delivers well after a unary call would have failed.
    const ended = await drain(runtime.streamMetrics(0), (sample) => {
      expect(Number(sample.host?.memoryTotalBytes)).toBeGreaterThan(0);
      expect(sample.instances.map((i) => i.instance)).toEqual(expect.arrayContaining(['talker', 'worker']));
      live.push(Number(sample.atMs));
      return live[live.length - 1]! >= live[0]! + 2 * CALL_TIMEOUT_MS;
    });
    expect(ended).toBeNull();
    expect(live.length).toBeGreaterThanOrEqual(3);

    // From the first live sample's time on, the ring buffer gives the very same samples first, in order.
    const backfilled = await first(runtime.streamMetrics(live[0]!), live.length);
    expect(backfilled.map((s) => Number(s.atMs))).toEqual(live);
  });

  it("tails an instance's last lines, follows new ones in order, and ends quietly when cancelled", async () => {
    const { runtime } = await connect();
    const stream = runtime.tailLogs({ instance: 'talker', lines: 3, follow: true });
    const numbers: number[] = [];
    const ended = drain(stream, (line) => {
      expect(line.instance).toBe('talker');
      expect(line.stream).toBe('LOG_STREAM_STDOUT');
      numbers.push(Number(/^line (\d+)$/.exec(line.text)?.[1]));
      if (numbers.length === 8) stream.cancel();
    });
    expect(await ended).toBeNull();
    // The three last lines, then each new line once, none skipped.
    expect(numbers.slice(0, 8)).toEqual(Array.from({ length: 8 }, (_, i) => numbers[0]! + i));
  });

  it('fails a tail of an instance that does not exist with the runtime\u2019s own code, thrown from the loop', async () => {
    const { runtime } = await connect();
    const error = await drain(runtime.tailLogs({ instance: 'nobody-1', lines: 5, follow: false }));
    expect(error?.code).toBe('RUNTIME_CALL_FAILED');
    expect(error?.message).toContain('PROCESS_NOT_FOUND');
  });

  it('reports scale, stop, start and restart as events on the watch, in order', async () => {
    const { runtime } = await connect();
    const events: RuntimeEvent__Output[] = [];
    const watch = runtime.watchEvents();
    const watching = drain(watch, (event) => void events.push(event));
    // Where on the watch an instance entered a state (from a place on), or false while it has not.
    const entered =
      (instance: string, state: string, from = 0) =>
      (): number | false => {
        const at = events.findIndex((e, i) => i >= from && e.kind === 'process.state' && e.instance === instance && e.state === state);
        return at >= 0 ? at : false;
      };

    await runtime.scaleProcess('worker', 2);
    const worker2Running = await waitFor('worker-2 running on the watch', entered('worker-2', 'PROCESS_STATE_RUNNING'));
    await runtime.stopProcess('worker');
    const stopped = await waitFor('worker-1 stopped on the watch', entered('worker-1', 'PROCESS_STATE_STOPPED'));
    await runtime.startProcess('worker');
    const runningAgain = await waitFor('worker-1 running again', entered('worker-1', 'PROCESS_STATE_RUNNING', stopped));
    expect(worker2Running).toBeLessThan(stopped);
    expect(stopped).toBeLessThan(runningAgain);
    const replicas = (await runtime.listProcesses()).find((p) => p.name === 'worker');
    expect(replicas?.instances.map((i) => i.instance)).toEqual(['worker-1', 'worker-2']);

    await runtime.restartProcess('talker');
    await waitFor('talker stopping on the watch', entered('talker', 'PROCESS_STATE_STOPPING'));
    watch.cancel();
    expect(await watching).toBeNull();
    await runtime.scaleProcess('worker', 1);
  });

  it('refuses a control of a process that does not exist, and one a viewer may not do', async () => {
    const { runtime } = await connect();
    const missing = await rejection(runtime.restartProcess('nobody'), 'RUNTIME_CALL_FAILED');
    expect(missing.message).toContain('PROCESS_NOT_FOUND');
    const { runtime: viewer } = await connect(labRuntime!.certs.viewer);
    await rejection(viewer.stopProcess('worker'), 'RUNTIME_PERMISSION_DENIED');
    // Reading is what a viewer may do.
    expect(await first(viewer.streamMetrics(0), 1)).toHaveLength(1);
  });
});

describe('when a stream loses its way', () => {
  it('closing the connection ends a stream with RUNTIME_UNREACHABLE, and a stream asked for afterwards too', async () => {
    const { runtime } = await connect();
    let seen = 0;
    const ended = drain(runtime.streamMetrics(0), () => {
      seen += 1;
      if (seen === 1) void runtime.close();
    });
    const error = await ended;
    expect(error?.code).toBe('RUNTIME_UNREACHABLE');
    expect(error?.message).toContain('was closed');
    const after = await drain(runtime.watchEvents());
    expect(after?.code).toBe('RUNTIME_UNREACHABLE');
  });

  it('closing the SSH session under a followed tail throws RUNTIME_UNREACHABLE naming the session', async () => {
    const { session, runtime } = await connect();
    let seen = 0;
    const error = await drain(runtime.tailLogs({ instance: 'talker', lines: 1, follow: true }), () => {
      seen += 1;
      if (seen === 2) session.close();
    });
    expect(error?.code).toBe('RUNTIME_UNREACHABLE');
    expect(error?.message).toContain('the SSH session it runs through was closed');
  });
});
