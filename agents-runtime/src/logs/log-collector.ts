/**
 * The log collector (`timestamps: collector`): ONE process per runtime that stamps every
 * instance's output, instead of two bash loops per instance (bash-stamper.ts).
 *
 * Each instance has two FIFOs, `<fifo dir>/<instance>.out` and `.err` (the daemon's is
 * `<state_dir>/log-fifos`: runtime objects, kept out of the log directory). The daemon
 * opens each FIFO read-write (log-collector-client.ts) and hands that descriptor to the
 * program as its stdout or stderr; the collector opens it read-only, non-blocking, and reads
 * it through the event loop. Why this keeps the children independent of both:
 *  - a FIFO's buffer lives as long as ANY descriptor of it is open, and a writer gets
 *    SIGPIPE only when no descriptor open for reading is left. The program's own stdout is
 *    open read-write, so it is a reader itself: a dead collector or daemon never kills it;
 *  - what the program wrote while the collector was down waits in the FIFO (64 KiB per
 *    stream on Linux; past that its writes block until a collector reads again) and is
 *    read by the next collector, which opens every FIFO in the directory when it starts.
 *    The daemon restarts a collector that died at once (log-collector-client.ts);
 *  - the daemon holds its read-write descriptor while it supervises the instance, so the
 *    last lines of a program that died are still in the FIFO for the collector to read,
 *    and the collector sees end-of-file only when the program, its descendants and the
 *    daemon have all let go: then it writes the rest and forgets the instance. It exits
 *    when it has no instance left and no daemon connected (after stop-all, or when the
 *    runtime is gone), so it never outlives the runtime for long.
 * Stamps are taken when the collector reads (one clock reading per read, which is at most
 * 64 KiB): normally within a millisecond of the write; lines written while no collector
 * ran carry the time the next one read them (the daemon restarts it within about 100 ms).
 * Lines are cut at MAX_LINE_BYTES, a partial line is written after PARTIAL_FLUSH_MS of
 * silence, and a full disk drops lines and counts them (stamped-lines.ts).
 * Rotation happens here, at write time: as the only writer of its logs the collector knows
 * each file's size, rotates it (by rename) before a write would pass logs.max_file_bytes and
 * then applies the directory's cap, so a flood cannot fill the disk between the daemon's
 * once-a-second checks (log-rotation.ts; they find nothing over its size to rotate).
 * Memory: lines are stamped into one fixed buffer (no object per line), each stream keeps at
 * most one partial line (MAX_LINE_BYTES), and an instance is forgotten when its FIFOs end.
 *
 * The daemon talks to it over a unix socket in the same directory, one JSON object a line
 * (protocol COLLECTOR_PROTOCOL; version 1 had no "protocol" in its stats and no pushes, version 2
 * no limits in hello and no rotation at write time):
 *  {"op":"hello","limits":L}            a daemon is here (a mere connection may be another collector's
 *                                       probe), with its log limits (LogLimits; they are on
 *                                       the collector's command line too); answered with a full
 *                                       {"op":"dropped",...} push
 *  {"op":"open","instance":I}           read I's FIFOs (again: a stale reader is replaced)
 *  {"op":"drain","instance":I,"id":N}   read what I's FIFOs hold now, write every line
 *                                       including a partial one, then answer {"id":N}
 *  {"op":"stats","id":N}                answer {"id":N,"protocol":P,"implementation":"node"|"native","lines":..,"bytes":..,"instances":..,
 *                                       "rotations":..,"rssBytes":..,"heapUsedBytes":..}
 * and, unasked, to every daemon that said hello:
 *  {"op":"dropped","all":B,"lines":{I:n}}  lines of each instance the disk refused since the
 *                                       collector started (a counter); "all": every instance
 *                                       with a count, else only those that changed (at most
 *                                       every DROPPED_PUSH_MS)
 * A collector outlives the daemon, so a daemon may meet one started by an older (or newer)
 * daemon: it reads the protocol from the stats answer and replaces a collector that speaks
 * another (log-collector-client.ts).
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { LogFiles, type LogLimits } from './log-files';
import { enforceTotalCap, rotateByRename } from './log-rotation';
import { LineSplitter, PARTIAL_FLUSH_MS, STREAM_TAGS, StampedLogFile, type StreamTag, type WriteTimeRotation } from './stamped-lines';

/** Marks the collector process with the runtime it collects for (as LOGGER_ENV_KEY marks the bash loops). */
export const COLLECTOR_ENV_KEY = 'SUTAZAI_RUNTIME_LOG_COLLECTOR';

/** The version of the control protocol below; a daemon replaces a collector that answers with another. */
export const COLLECTOR_PROTOCOL = 3;

/** How long a collector that no daemon has connected to waits before it gives up (it was started for nothing). */
const UNCLAIMED_EXIT_MS = 10_000;
/** Dropped-line counts reach the daemons at most this often (a full disk under a flood fails every write). */
export const DROPPED_PUSH_MS = 250;

export interface CollectorPaths {
  /** Holds the FIFOs and the socket. */
  dir: string;
  socket: string;
}

export function collectorPaths(fifoDir: string): CollectorPaths {
  return { dir: fifoDir, socket: path.join(fifoDir, 'control.sock') };
}

export function fifoPath(dir: string, instance: string, tag: StreamTag): string {
  return path.join(dir, `${instance}.${tag}`);
}

/** One line of the control protocol, daemon to collector. */
export type CollectorRequest =
  | { op: 'hello'; limits?: LogLimits }
  | { op: 'open'; instance: string }
  | { op: 'drain'; instance: string; id: number }
  | { op: 'stats'; id: number };

export interface CollectorStats {
  id: number;
  /** Absent from a version-1 collector. */
  protocol?: number;
  /** Which program answers: this file's, or the native one (agents-runtime/native/log-collector.c); absent before either said. */
  implementation?: 'node' | 'native';
  lines: number;
  bytes: number;
  instances: number;
  /** Rotations at write time since it started (absent before version 3). */
  rotations?: number;
  /** Its own memory now, so that a daemon (and the tests) can see it stays bounded (absent before version 3). */
  rssBytes?: number;
  heapUsedBytes?: number;
}

/** The unasked message with the dropped-line counters (see the protocol above). */
export interface DroppedLinesPush {
  op: 'dropped';
  all: boolean;
  lines: Record<string, number>;
}

interface Stream {
  tag: StreamTag;
  lines: LineSplitter;
  reader: { fd: number; socket: net.Socket } | null;
  timer: NodeJS.Timeout | undefined;
}

interface Instance {
  name: string;
  log: StampedLogFile;
  streams: Record<StreamTag, Stream>;
}

export interface LogCollector {
  /** Resolves when it has stopped (nothing left to read and no daemon connected). */
  done: Promise<void>;
  stop(): void;
}

/** Runs the collector of `fifoDir` writing into `logDir` in this process; resolves once it listens (null: another collector already serves it). */
export async function startLogCollector(fifoDir: string, logDir: string, limits?: LogLimits): Promise<LogCollector | null> {
  const paths = collectorPaths(fifoDir);
  // From its command line: what it reads at once when it starts (lines a previous collector left) is rotated by them too.
  let logs = new LogFiles(logDir, limits);
  let rotations = 0;
  const instances = new Map<string, Instance>();
  const connections = new Set<net.Socket>();
  /** Connections that said hello: the daemons, which get the dropped-line pushes. */
  const daemons = new Set<net.Socket>();
  /** Lines the disk refused, by instance, for the collector's whole life (forgotten instances too: a counter never goes back). */
  const droppedTotals = new Map<string, number>();
  const droppedChanged = new Set<string>();
  let pushTimer: NodeJS.Timeout | undefined;
  /**
   * Every read of every FIFO lands here (the sockets' `onread`, and readNow): each chunk is
   * stamped and written before the next read. A socket's own reads would allocate 64 KiB a
   * read outside the JS heap, and with no garbage on the heap to prompt a collection those
   * pile up (tens of MiB under a flood) until V8's external-memory limit calls one.
   */
  const readBuffer = Buffer.allocUnsafe(64 * 1024);
  let claimed = false;
  let totalLines = 0;
  let totalBytes = 0;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));

  fs.mkdirSync(paths.dir, { recursive: true, mode: 0o750 });
  const server = net.createServer((conn) => serve(conn));
  if (!(await listen(server, paths.socket))) return null;

  const droppedPush = (all: boolean, names: Iterable<string>): string => {
    const push: DroppedLinesPush = { op: 'dropped', all, lines: {} };
    for (const name of names) push.lines[name] = droppedTotals.get(name) ?? 0;
    return `${JSON.stringify(push)}\n`;
  };

  const countDropped = (name: string, lines: number): void => {
    droppedTotals.set(name, (droppedTotals.get(name) ?? 0) + lines);
    droppedChanged.add(name);
    pushTimer ??= setTimeout(() => {
      pushTimer = undefined;
      const line = droppedPush(false, droppedChanged);
      droppedChanged.clear();
      for (const conn of daemons) conn.write(line);
    }, DROPPED_PUSH_MS);
  };

  const counted = (instance: Instance, { lines, dropped }: { lines: number; dropped: number }): void => {
    if (dropped > 0) countDropped(instance.name, dropped);
    totalLines += lines;
  };

  const flushPartial = (instance: Instance, stream: Stream): void => {
    clearTimeout(stream.timer);
    stream.timer = undefined;
    const rest = stream.lines.rest();
    if (rest !== null) counted(instance, instance.log.write(new Date().toISOString(), stream.tag, [rest]));
  };

  /** `chunk` may be the shared read buffer: its lines are copied out before this returns. */
  const onData = (instance: Instance, stream: Stream, chunk: Buffer): void => {
    totalBytes += chunk.length;
    counted(
      instance,
      instance.log.writeLines(new Date().toISOString(), stream.tag, (sink) => stream.lines.each(chunk, sink)),
    );
    if (!stream.lines.hasPartial) {
      clearTimeout(stream.timer);
      stream.timer = undefined;
    } else if (stream.timer === undefined) {
      stream.timer = setTimeout(() => flushPartial(instance, stream), PARTIAL_FLUSH_MS);
    } else {
      stream.timer.refresh();
    }
  };

  /** Reads what the FIFO holds right now, synchronously (the event loop may not have delivered it yet). Returns false at end of file. */
  const readNow = (instance: Instance, stream: Stream): boolean => {
    if (stream.reader === null) return false;
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(stream.reader.fd, readBuffer, 0, readBuffer.length, null);
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'EAGAIN';
      }
      if (n === 0) return false;
      onData(instance, stream, readBuffer.subarray(0, n));
    }
  };

  const closeReader = (stream: Stream): void => {
    const reader = stream.reader;
    if (reader === null) return;
    stream.reader = null;
    reader.socket.destroy(); // closes the descriptor
  };

  const forgetIfClosed = (name: string, instance: Instance): void => {
    if (STREAM_TAGS.some((tag) => instance.streams[tag].reader !== null)) return;
    instance.log.close();
    instances.delete(name);
    maybeExit();
  };

  const onEnd = (name: string, instance: Instance, stream: Stream, socket: net.Socket): void => {
    if (stream.reader?.socket !== socket) return; // a replaced reader
    flushPartial(instance, stream);
    closeReader(stream);
    forgetIfClosed(name, instance);
  };

  /** Rotation at write time of an instance's log, with the limits the last daemon gave. */
  const rotationOf = (name: string): WriteTimeRotation => ({
    maxFileBytes: () => logs.limits.maxFileBytes,
    rotate: () => {
      rotateByRename(logs, name);
      rotations += 1;
      try {
        enforceTotalCap(logs);
      } catch {
        // the daemon's rotator tries again within a second and reports why
      }
    },
  });

  const open = (name: string): void => {
    let logFile: string;
    try {
      logFile = logs.logPath(name);
    } catch {
      return; // not an instance name: nothing the daemon made
    }
    let instance = instances.get(name);
    if (instance === undefined) {
      const stream = (tag: StreamTag): Stream => ({ tag, lines: new LineSplitter(), reader: null, timer: undefined });
      instance = { name, log: new StampedLogFile(logFile, rotationOf(name)), streams: { out: stream('out'), err: stream('err') } };
      instances.set(name, instance);
    }
    const current = instance;
    for (const tag of STREAM_TAGS) {
      const stream = current.streams[tag];
      let fd: number;
      try {
        fd = fs.openSync(fifoPath(paths.dir, name, tag), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
        if (!fs.fstatSync(fd).isFIFO()) {
          fs.closeSync(fd);
          continue;
        }
      } catch {
        continue;
      }
      // The new reader is open before the old one closes: the FIFO's buffer is never without a reader.
      readNow(current, stream);
      closeReader(stream);
      // `onread` works for a socket made on a descriptor too (Node 20), though its types name it for connect() only.
      const options: net.SocketConstructorOpts & { onread: net.OnReadOpts } = {
        fd,
        readable: true,
        writable: false,
        allowHalfOpen: true,
        onread: {
          buffer: readBuffer,
          callback: (n: number) => {
            // A replaced reader's last read is not this stream's any more.
            if (stream.reader?.socket === socket) onData(current, stream, readBuffer.subarray(0, n));
            return true; // read on (false would pause the socket)
          },
        },
      };
      const socket = new net.Socket(options);
      stream.reader = { fd, socket };
      socket.on('end', () => onEnd(name, current, stream, socket));
      socket.on('error', () => onEnd(name, current, stream, socket));
      // A FIFO that no writer ever opened gives no end-of-file event; reading it tells (0 bytes: nobody writes).
      // The instance is forgotten below, once both streams are seen to, not halfway through.
      if (!readNow(current, stream)) {
        flushPartial(current, stream);
        closeReader(stream);
      }
    }
    // A new run writes to the file as it is now (it may have been replaced meanwhile).
    current.log.close();
    forgetIfClosed(name, current);
  };

  const drain = (name: string): void => {
    const instance = instances.get(name);
    if (instance === undefined) return;
    for (const tag of STREAM_TAGS) {
      const stream = instance.streams[tag];
      if (!readNow(instance, stream) && stream.reader !== null) {
        flushPartial(instance, stream);
        closeReader(stream);
      }
      flushPartial(instance, stream);
    }
    instance.log.close();
    forgetIfClosed(name, instance);
  };

  function handle(conn: net.Socket, request: CollectorRequest): void {
    claimed = true;
    // Parsed JSON, not yet a request: a name that is not text (a list holding one) is none.
    if ((request.op === 'open' || request.op === 'drain') && typeof request.instance !== 'string') {
      if (request.op === 'drain') conn.write(`${JSON.stringify({ id: request.id })}\n`);
      return;
    }
    switch (request.op) {
      case 'hello':
        if (validLimits(request.limits)) logs = new LogFiles(logDir, request.limits);
        daemons.add(conn);
        conn.write(droppedPush(true, droppedTotals.keys()));
        return;
      case 'open':
        open(request.instance);
        return;
      case 'drain':
        drain(request.instance);
        conn.write(`${JSON.stringify({ id: request.id })}\n`);
        return;
      case 'stats': {
        const stats: CollectorStats = {
          id: request.id,
          protocol: COLLECTOR_PROTOCOL,
          implementation: 'node',
          lines: totalLines,
          bytes: totalBytes,
          instances: instances.size,
          rotations,
          rssBytes: process.memoryUsage.rss(),
          heapUsedBytes: process.memoryUsage().heapUsed,
        };
        conn.write(`${JSON.stringify(stats)}\n`);
        return;
      }
    }
  }

  function serve(conn: net.Socket): void {
    connections.add(conn);
    let buffered = '';
    conn.setEncoding('utf8');
    conn.on('data', (text: string) => {
      buffered += text;
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const part of parts) {
        let request: CollectorRequest;
        try {
          request = JSON.parse(part) as CollectorRequest;
        } catch {
          continue;
        }
        handle(conn, request);
      }
    });
    conn.on('error', () => conn.destroy());
    conn.on('close', () => {
      connections.delete(conn);
      daemons.delete(conn);
      maybeExit();
    });
  }

  let stopped = false;
  function stop(): void {
    if (stopped) return;
    stopped = true;
    clearTimeout(pushTimer);
    for (const [name, instance] of instances) {
      for (const tag of STREAM_TAGS) {
        readNow(instance, instance.streams[tag]);
        flushPartial(instance, instance.streams[tag]);
        closeReader(instance.streams[tag]);
      }
      instance.log.close();
      instances.delete(name);
    }
    for (const conn of connections) conn.destroy();
    server.close();
    fs.rmSync(paths.socket, { force: true });
    finish();
  }

  function maybeExit(): void {
    if (claimed && connections.size === 0 && instances.size === 0) stop();
  }

  // What a previous collector left unread: every FIFO in the directory (those nobody writes end at once).
  const names = new Set<string>();
  for (const entry of fs.readdirSync(paths.dir)) {
    const tag = STREAM_TAGS.find((t) => entry.endsWith(`.${t}`));
    if (tag !== undefined) names.add(entry.slice(0, -tag.length - 1));
  }
  for (const name of names) open(name);
  setTimeout(() => {
    claimed = true;
    maybeExit();
  }, UNCLAIMED_EXIT_MS).unref();

  return { done, stop };
}

/** The limits on the collector's command line (JSON), or undefined (the defaults then, until a hello brings them). */
export function parseLimitsArgument(text: string | undefined): LogLimits | undefined {
  try {
    const limits: unknown = JSON.parse(text ?? '');
    return validLimits(limits) ? limits : undefined;
  } catch {
    return undefined;
  }
}

function validLimits(limits: unknown): limits is LogLimits {
  if (typeof limits !== 'object' || limits === null) return false;
  const { maxFileBytes, keepFiles, maxTotalBytes } = limits as Record<string, unknown>;
  return [maxFileBytes, keepFiles, maxTotalBytes].every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0);
}

/** Listens on `socket`; false when a live collector already does (a stale socket file is replaced). */
async function listen(server: net.Server, socket: string): Promise<boolean> {
  const attempt = (): Promise<NodeJS.ErrnoException | null> =>
    new Promise((resolve) => {
      server.once('error', (error: NodeJS.ErrnoException) => resolve(error));
      server.listen(socket, () => resolve(null));
    });
  const first = await attempt();
  if (first === null) return true;
  if (first.code !== 'EADDRINUSE') throw first;
  if (await answers(socket)) return false;
  fs.rmSync(socket, { force: true });
  const second = await attempt();
  if (second !== null) throw second;
  return true;
}

function answers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(socket);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/** The collector as a process (log-collector-main.ts): runs until it has stopped; the exit code. */
export async function runLogCollector(fifoDir: string, logDir: string, limits?: LogLimits): Promise<number> {
  // Its own session has no terminal; a stray hang-up or interrupt must not cost the lines in flight.
  for (const signal of ['SIGHUP', 'SIGINT'] as const) process.on(signal, () => undefined);
  const collector = await startLogCollector(fifoDir, logDir, limits);
  if (collector === null) return 0;
  // At shutdown (SIGTERM to everything) it writes what the FIFOs hold before it goes.
  process.on('SIGTERM', () => collector.stop());
  await collector.done;
  return 0;
}
