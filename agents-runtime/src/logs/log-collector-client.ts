/**
 * The daemon's side of the log collector (log-collector.ts says how the FIFOs keep the
 * children independent of both). It makes each instance's two FIFOs once (`mkfifo`, kept
 * across runs), holds them open read-write for as long as it supervises the instance and
 * hands those descriptors to every run as stdout and stderr: a restart opens nothing and
 * starts nothing but the program. It starts the collector when none answers on the socket
 * (one per log directory; a collector left by an earlier daemon is used as it is) and
 * starts another at once when the connection drops, so lines wait in the FIFOs no longer
 * than a collector start. Nothing here blocks the children: the socket only carries
 * "read these FIFOs" and "tell me when you have written what they hold" (and, back, the
 * dropped-line counters). A collector outlives daemon upgrades, so on each connection the
 * daemon asks its protocol version and replaces one that speaks another (SIGTERM: it writes
 * what the FIFOs hold and exits; the FIFOs keep what comes meanwhile for the next one).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { closeQuietly, isFifo, runMkfifo } from '../process/fifo';
import { scanProcessesByEnvAsync } from '../process/proc-identity';
import { RuntimeError } from '../runtime-error';
import { RUNTIME_LAUNCH_ENV } from '../wire/launch-env';
import { DEFAULT_LOG_LIMITS, diskFull, notWritable, type LogLimits } from './log-files';
import {
  COLLECTOR_ENV_KEY,
  COLLECTOR_PROTOCOL,
  collectorPaths,
  fifoPath,
  type CollectorPaths,
  type CollectorRequest,
  type CollectorStats,
} from './log-collector';
import { findNativeCollector } from './native-collector';
import { STREAM_TAGS, type StreamTag } from './stamped-lines';

/** How to start a collector process for a log directory. */
export interface CollectorCommand {
  file: string;
  args: string[];
  cwd: string;
  /** Set when the Node collector runs because the bundle's native one cannot (native-collector.ts): why, for the daemon's log. */
  nativeProblem?: string;
  /** 'native' for the native collector: a Node one found running (left by an older daemon) is then replaced by it. */
  implementation?: 'native';
  /**
   * What runs instead when this command cannot run after all (the ELF check passes but exec is
   * refused, or it dies at every start): the client switches to it for good and says why.
   */
  fallback?: CollectorCommand;
}

/** Set by the bundler (build-runtime.mjs): log-collector-main.ts bundled on its own, as source text. */
declare const __SUTAZAI_LOG_COLLECTOR_SOURCE__: string | undefined;

/** The native collector (agents-runtime/native/log-collector.c) at `file`: the same operands as the Node one. */
export function nativeCollectorCommand(
  file: string,
  fifoDir: string,
  logDir: string,
  limits: LogLimits = DEFAULT_LOG_LIMITS,
): CollectorCommand {
  return { file, args: [fifoDir, logDir, JSON.stringify(limits)], cwd: '/', implementation: 'native' };
}

/**
 * The bundle runs its native collector (beside sutazai-runtime.cjs) when it can run here, else
 * the Node collector's source with `node -e`; from source the Node entry is run by tsx.
 */
export function defaultCollectorCommand(fifoDir: string, logDir: string, limits: LogLimits = DEFAULT_LOG_LIMITS): CollectorCommand {
  const operands = [fifoDir, logDir, JSON.stringify(limits)];
  if (typeof __SUTAZAI_LOG_COLLECTOR_SOURCE__ === 'string') {
    const native = findNativeCollector(__dirname);
    const node: CollectorCommand = { file: process.execPath, args: ['-e', __SUTAZAI_LOG_COLLECTOR_SOURCE__, '--', ...operands], cwd: '/' };
    if ('file' in native) return { ...nativeCollectorCommand(native.file, fifoDir, logDir, limits), fallback: node };
    return { ...node, nativeProblem: native.problem };
  }
  const here = typeof __dirname === 'string' ? __dirname : path.join(process.cwd(), 'agents-runtime', 'src', 'logs');
  // --import is resolved against the working directory: the checkout, where tsx is installed.
  return {
    file: process.execPath,
    args: ['--import', 'tsx', path.join(here, 'log-collector-main.ts'), ...operands],
    cwd: path.resolve(here, '..', '..', '..'),
  };
}

/** FIFOs of a runtime that was given no directory for them (a driver made outside the daemon): under the temp dir, per user and runtime. */
export function defaultFifoDir(runtimeId: string): string {
  return path.join(os.tmpdir(), `sutazai-log-fifos-${process.getuid?.() ?? 0}`, runtimeId.replace(/[^A-Za-z0-9._-]/g, '_'));
}

export interface LogCollectorClientOptions {
  /** Holds the FIFOs and the collector's socket (one collector per directory). */
  fifoDir: string;
  logDir: string;
  /** The limits the collector rotates by at write time (told in every hello); the defaults when not given. */
  limits?: LogLimits;
  runtimeId: string;
  command?: CollectorCommand;
  /** Told once when the command cannot run after all and its fallback runs instead: why (for the daemon's log). */
  onFallback?: (problem: string) => void;
}

/** Starts of a command that failed at once (spawn refused, or died sooner than FAILING_START_MS) before its fallback runs instead. */
const FAILED_STARTS_BEFORE_FALLBACK = 2;
/** Starts per connection attempt: a collector that dies at once is started again at once (its fallback, once it failed enough). */
const STARTS_PER_CONNECT = FAILED_STARTS_BEFORE_FALLBACK + 1;
/** A collector that died sooner than this after its start counts as failing: the next start waits longer. */
const FAILING_START_MS = 1000;
const MAX_RESTART_DELAY_MS = 5000;
const CONNECT_TIMEOUT_MS = 10_000;
/** How long a drain waits for a collector that is not connected yet (it starts in ~0.1 s from the bundle). */
const FIRST_DRAIN_WAIT_MS = 2000;
/** How long the version question waits; a collector too busy to answer is asked again on the next connection. */
const PROTOCOL_CHECK_MS = 5000;
/** The collector's stderr (its defects only) beside the FIFOs; past this size the next start moves it to `.1`. */
export const COLLECTOR_ERRORS_FILE = 'collector-errors.txt';
export const COLLECTOR_ERRORS_MAX_BYTES = 256 * 1024;

export class LogCollectorClient {
  readonly paths: CollectorPaths;
  private current: CollectorCommand;
  /** The collector this client started that has not exited yet (null: none, or it exited). */
  private running: { exited: boolean } | null = null;
  private failedStarts = 0;
  private readonly held = new Map<string, Record<StreamTag, number>>();
  /** The collector's dropped-line counters, as it last pushed them. */
  private readonly dropped = new Map<string, number>();
  private readonly waiting = new Map<number, (reply: Record<string, unknown> | null) => void>();
  private readonly queued: string[] = [];
  private socket: net.Socket | null = null;
  private connecting: Promise<void> | null = null;
  private nextId = 1;
  private closed = false;
  private lastSpawnAt = 0;
  private restartDelayMs = 0;

  constructor(private readonly options: LogCollectorClientOptions) {
    this.paths = collectorPaths(options.fifoDir);
    this.current = options.command ?? defaultCollectorCommand(options.fifoDir, options.logDir, options.limits);
  }

  /** How the collector is started now: the fallback (with nativeProblem set) once the first command could not run. */
  get command(): CollectorCommand {
    return this.current;
  }

  /**
   * Descriptors (read-write, blocking) for a run's stdout and stderr. The first call for an
   * instance makes its FIFOs and tells the collector; later calls return the same ones.
   * Synchronous, like the spawn that follows: the fleet's start batches (START_BATCH) bound
   * the work done per turn of the event loop only if a start does all of it in its turn.
   * Throws LOG_DIR_NOT_WRITABLE / LOG_DISK_FULL / SPAWN_FAILED (no mkfifo).
   */
  fifosFor(instance: string): Record<StreamTag, number> {
    return this.held.get(instance) ?? this.openFifos(instance);
  }

  /**
   * Holds the FIFOs of an instance a previous daemon started (re-adoption), so that its exit
   * can be drained like an own child's and its next run gets the same descriptors. Nothing
   * is made: an instance started under another stamper has no FIFOs, and nothing to drain.
   */
  adoptFifos(instance: string): void {
    if (this.held.has(instance)) return;
    if (!STREAM_TAGS.every((tag) => isFifo(fifoPath(this.paths.dir, instance, tag)))) return;
    try {
      this.openFifos(instance);
    } catch {
      // unreadable FIFOs: its next start reports why
    }
  }

  /**
   * Deletes the FIFOs of instances the runtime no longer has (removed from the manifest,
   * scaled away, renamed between one and several replicas), but never one it holds. A
   * collector still reading one keeps its descriptor until the last writer is gone.
   */
  removeFifosExcept(keep: ReadonlySet<string>): void {
    let entries: string[];
    try {
      entries = fs.readdirSync(this.paths.dir);
    } catch {
      return; // no directory yet: no FIFOs
    }
    for (const entry of entries) {
      const tag = STREAM_TAGS.find((t) => entry.endsWith(`.${t}`));
      if (tag === undefined) continue;
      const instance = entry.slice(0, -tag.length - 1);
      if (keep.has(instance) || this.held.has(instance)) continue;
      const file = path.join(this.paths.dir, entry);
      if (isFifo(file)) fs.rmSync(file, { force: true });
      this.dropped.delete(instance);
    }
  }

  /** Lines of `instance` the collector could not write since it started (0 until it says otherwise). */
  droppedLines(instance: string): number {
    return this.dropped.get(instance) ?? 0;
  }

  /** Lets go of an instance's FIFOs (after a stop): the collector writes the rest and forgets it once nobody writes. */
  release(instance: string): void {
    const held = this.held.get(instance);
    if (held === undefined) return;
    this.held.delete(instance);
    for (const tag of STREAM_TAGS) closeQuietly(held[tag]);
  }

  /** Resolves once the collector has written what the instance's FIFOs hold, partial lines included; or after `timeoutMs`. */
  async drain(instance: string, timeoutMs: number): Promise<void> {
    if (!this.held.has(instance)) return;
    // A collector still starting (the first run, or one that died) is waited for, bounded: the lines wait in the FIFO.
    if (this.socket === null) await Promise.race([this.connect(), sleep(FIRST_DRAIN_WAIT_MS, { unref: true })]);
    await this.request({ op: 'drain', instance, id: this.nextId++ }, timeoutMs);
  }

  /** The collector's counters (lines and bytes written since it started), or null when it does not answer. */
  async stats(timeoutMs = 2000): Promise<CollectorStats | null> {
    return (await this.request({ op: 'stats', id: this.nextId++ }, timeoutMs)) as CollectorStats | null;
  }

  /** Closes the connection and every held FIFO (the collector itself runs on while anything writes). */
  close(): void {
    this.closed = true;
    this.socket?.destroy();
    for (const instance of [...this.held.keys()]) this.release(instance);
  }

  /** Starts (or finds) the collector without waiting for it. */
  ensureRunning(): void {
    if (this.socket === null) void this.connect();
  }

  private openFifos(instance: string): Record<StreamTag, number> {
    const files = STREAM_TAGS.map((tag) => fifoPath(this.paths.dir, instance, tag));
    try {
      fs.mkdirSync(this.paths.dir, { recursive: true, mode: 0o750 });
    } catch (cause) {
      throw notWritable(this.paths.dir, cause);
    }
    const missing = files.filter((file) => !isFifo(file));
    if (missing.length > 0) {
      for (const file of missing) fs.rmSync(file, { force: true });
      mkfifo(missing, this.paths.dir);
    }
    const fds: number[] = [];
    try {
      // Read-write: the program is then a reader of its own output, so no SIGPIPE whoever dies.
      for (const file of files) fds.push(fs.openSync(file, fs.constants.O_RDWR));
    } catch (cause) {
      for (const fd of fds) closeQuietly(fd);
      throw notWritable(this.paths.dir, cause);
    }
    const held = { out: fds[0]!, err: fds[1]! };
    this.held.set(instance, held);
    this.send({ op: 'open', instance });
    return held;
  }

  private request(request: CollectorRequest & { id: number }, timeoutMs: number): Promise<Record<string, unknown> | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(request.id);
        resolve(null);
      }, timeoutMs);
      this.waiting.set(request.id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.send(request);
    });
  }

  private send(request: CollectorRequest): void {
    const line = `${JSON.stringify(request)}\n`;
    if (this.socket !== null) {
      this.socket.write(line);
      return;
    }
    // Opens are sent again for every held instance on connecting; other requests wait.
    if (request.op !== 'open') this.queued.push(line);
    void this.connect();
  }

  private connect(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.connecting ??= this.connectOnce().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async connectOnce(): Promise<void> {
    const deadline = Date.now() + CONNECT_TIMEOUT_MS;
    let starts = 0;
    while (!this.closed && Date.now() < deadline) {
      const socket = await tryConnect(this.paths.socket);
      if (socket !== null) {
        this.attach(socket);
        return;
      }
      // Started again only when the one started is gone (spawn refused, or it died): a collector
      // that cannot run is then replaced by its fallback within this attempt, not retried forever.
      if (starts < STARTS_PER_CONNECT && (this.running === null || this.running.exited)) {
        this.startCollector();
        starts++;
      }
      await sleep(20);
    }
    // No collector came up: the lines wait in the FIFOs; try again later.
    this.reconnectLater();
  }

  private attach(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.socket = socket;
    socket.unref();
    socket.setEncoding('utf8');
    let buffered = '';
    socket.on('data', (text: string) => {
      buffered += text;
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const part of parts) {
        try {
          const reply = JSON.parse(part) as Record<string, unknown>;
          if (reply.op === 'dropped') {
            this.takeDropped(reply);
            continue;
          }
          const waiter = this.waiting.get(Number(reply.id));
          this.waiting.delete(Number(reply.id));
          waiter?.(reply);
        } catch {
          // not a reply
        }
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (this.socket === socket) this.socket = null;
      for (const waiter of this.waiting.values()) waiter(null);
      this.waiting.clear();
      this.reconnectLater();
    });
    const hello: CollectorRequest[] = [
      { op: 'hello', limits: this.options.limits ?? DEFAULT_LOG_LIMITS },
      ...[...this.held.keys()].map((instance) => ({ op: 'open' as const, instance })),
    ];
    socket.write(hello.map((r) => `${JSON.stringify(r)}\n`).join('') + this.queued.splice(0).join(''));
    void this.checkProtocol(socket);
  }

  /** A DroppedLinesPush (log-collector.ts). A full one (the answer to hello) comes from the collector now connected: its counters replace any earlier one's. */
  private takeDropped(push: Record<string, unknown>): void {
    const lines = push.lines;
    if (typeof lines !== 'object' || lines === null) return;
    if (push.all === true) this.dropped.clear();
    for (const [instance, count] of Object.entries(lines)) {
      if (typeof count === 'number' && Number.isFinite(count)) this.dropped.set(instance, count);
    }
  }

  /**
   * Replaces a collector that speaks another protocol version (one left running by an older
   * daemon), and a Node collector when this daemon has the native one: after an upgrade that
   * brought it, the Node one would otherwise go on (and keep its memory) for as long as
   * anything writes.
   */
  private async checkProtocol(socket: net.Socket): Promise<void> {
    const stats = (await this.request({ op: 'stats', id: this.nextId++ }, PROTOCOL_CHECK_MS)) as CollectorStats | null;
    if (stats === null || this.socket !== socket) return;
    const wanted = this.command.implementation === undefined || stats.implementation === this.command.implementation;
    if (stats.protocol === COLLECTOR_PROTOCOL && wanted) return;
    // Its stdout is not ours and a version-1 collector does not say its pid: found by its marker, the
    // top process only (run from source, tsx's esbuild service inherits the marker).
    const marked = await scanProcessesByEnvAsync(COLLECTOR_ENV_KEY, this.options.runtimeId);
    const pids = new Set(marked.map(({ stat }) => stat.pid));
    for (const { stat } of marked) {
      if (pids.has(stat.ppid)) continue;
      try {
        process.kill(stat.pid, 'SIGTERM');
      } catch {
        // gone already
      }
    }
    // Its exit closes the connection, and the reconnect starts a collector of this version.
  }

  private reconnectLater(): void {
    if (this.closed) return;
    const failing = Date.now() - this.lastSpawnAt < FAILING_START_MS;
    this.restartDelayMs = failing ? Math.min(Math.max(this.restartDelayMs * 2, 100), MAX_RESTART_DELAY_MS) : 0;
    setTimeout(() => void this.connect(), this.restartDelayMs).unref();
  }

  private startCollector(): void {
    const command = this.current;
    const startedAt = Date.now();
    this.lastSpawnAt = startedAt;
    const run = { exited: false };
    this.running = run;
    let errors: number | 'ignore' = 'ignore';
    try {
      // Its own complaints (a defect, a missing tsx from source) land beside the FIFOs.
      const file = path.join(this.paths.dir, COLLECTOR_ERRORS_FILE);
      rotateErrorsFile(file);
      errors = fs.openSync(file, 'a', 0o640);
    } catch {
      // no such file: its complaints are lost, nothing else
    }
    try {
      const child = spawn(command.file, command.args, {
        cwd: command.cwd,
        env: { PATH: '/usr/bin:/bin', LC_ALL: 'C', ...RUNTIME_LAUNCH_ENV, [COLLECTOR_ENV_KEY]: this.options.runtimeId },
        // A session of its own: it outlives the daemon and is in no instance's group.
        detached: true,
        stdio: ['ignore', 'ignore', errors],
      });
      child.on('error', (error: NodeJS.ErrnoException) => {
        run.exited = true;
        this.startFailed(command, `${command.file} cannot be started (${error.code ?? error.message})`);
      });
      child.on('exit', (code, signal) => {
        run.exited = true;
        // 0: another collector serves the directory, or it had nothing left to do.
        if (code === 0 || Date.now() - startedAt >= FAILING_START_MS) return;
        this.startFailed(command, `${command.file} exits at once (${code !== null ? `status ${code}` : signal})`);
      });
      child.unref();
    } catch (error) {
      run.exited = true;
      this.startFailed(command, `${command.file} cannot be started (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    } finally {
      if (typeof errors === 'number') closeQuietly(errors);
    }
  }

  /** Counts a start of `command` that failed; past FAILED_STARTS_BEFORE_FALLBACK its fallback runs from now on. */
  private startFailed(command: CollectorCommand, problem: string): void {
    if (command !== this.current || command.fallback === undefined) return;
    this.failedStarts++;
    if (this.failedStarts < FAILED_STARTS_BEFORE_FALLBACK) return;
    this.failedStarts = 0;
    this.current = { ...command.fallback, nativeProblem: problem };
    this.options.onFallback?.(problem);
  }
}

/**
 * Caps the collector's complaints: a collector failing at every start (every 5 s at most,
 * MAX_RESTART_DELAY_MS) would otherwise grow the file without end. Past the cap the file
 * becomes `.1` (the one before is dropped), so both together stay under twice the cap plus
 * what one collector writes.
 */
function rotateErrorsFile(file: string): void {
  try {
    if (fs.statSync(file).size > COLLECTOR_ERRORS_MAX_BYTES) fs.renameSync(file, `${file}.1`);
  } catch {
    // none yet, or not movable: appended to as it is
  }
}

const DEFAULT_MKFIFO_CANDIDATES = ['/usr/bin/mkfifo', '/bin/mkfifo'];

/** The mkfifo the collector's FIFOs are made with, or null (then `timestamps: auto` does not pick the collector). */
export function findMkfifo(candidates: readonly string[] = DEFAULT_MKFIFO_CANDIDATES): string | null {
  return candidates.find((file) => fs.existsSync(file)) ?? null;
}

/** Makes the FIFOs (first start of an instance only: they are kept), mode 0600. */
function mkfifo(files: readonly string[], dir: string): void {
  const made = runMkfifo(files);
  if ((made.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new RuntimeError(
      'SPAWN_FAILED',
      'cannot make the log FIFOs: no mkfifo in /usr/bin or /bin',
      'install coreutils, or set logs.timestamps to "bash", "node" or "raw" in the runtime config',
      { cause: made.error },
    );
  }
  if (made.status === 0) return;
  const why = new Error(made.stderr.trim() || made.error?.message || `mkfifo exited with ${made.status ?? made.signal}`);
  throw /No space left|quota/i.test(made.stderr) ? diskFull(dir, why) : notWritable(dir, why);
}

function tryConnect(file: string): Promise<net.Socket | null> {
  return new Promise((resolve) => {
    const socket = net.connect(file);
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(null);
    });
  });
}

function sleep(ms: number, options: { unref?: boolean } = {}): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (options.unref === true) timer.unref();
  });
}
