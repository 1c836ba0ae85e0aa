import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { isInstanceFileName } from '../logs/log-files';
import { closeQuietly, isFifo, runMkfifo } from './fifo';

/**
 * How a daemon notices at once that a process an EARLIER daemon started has exited. Such a
 * process is not its child (no SIGCHLD), and Node 20 has no pidfd, so without this only
 * polling /proc can tell. Each instance has a FIFO, `<dir>/<instance>.life`, made once; every
 * run gets it as its file descriptor 3, open read-write (the open never blocks, and a run
 * that writes to it is a reader itself, so it gets no SIGPIPE). A later daemon opens it for
 * reading only: the kernel reports end-of-file once no process holds it any longer, which is
 * when the run exited, unless a descendant that inherited it lives on or the program closed
 * it; the supervisor's slower poll covers those. The daemon that started the run holds it
 * too (to hand it to the next run without opening it again), but that one is told of its
 * own children's exits by the kernel anyway.
 *
 * Best effort throughout: no mkfifo, or a directory that cannot be written, means no
 * lifeline (the run gets no descriptor 3), never a failed start.
 */
export class Lifelines {
  private readonly held = new Map<string, number>();
  /** Instances whose lifeline could not be made: not tried again at every restart (mkfifo is a process spawn). */
  private readonly failed = new Set<string>();

  /** `where`: the directory and the mkfifo to make them with; null (or no mkfifo) for none. */
  constructor(private readonly where: { dir: string; mkfifo: string | null } | null) {}

  /** The descriptor a run of `instance` gets as its fd 3, or null without a lifeline. Made and opened on its first run only. */
  fdFor(instance: string): number | null {
    const known = this.held.get(instance);
    if (known !== undefined) return known;
    const where = this.where;
    if (where === null || where.mkfifo === null || this.failed.has(instance) || !isInstanceFileName(instance)) return null;
    const file = this.fileOf(instance);
    try {
      if (!isFifo(file)) {
        fs.mkdirSync(where.dir, { recursive: true, mode: 0o750 });
        fs.rmSync(file, { force: true });
        const made = runMkfifo([file], where.mkfifo);
        if (made.status !== 0) throw new Error(`mkfifo exited with ${made.status ?? made.signal}`);
      }
      const fd = fs.openSync(file, fs.constants.O_RDWR);
      this.held.set(instance, fd);
      return fd;
    } catch {
      this.failed.add(instance);
      return null;
    }
  }

  /**
   * Watches the lifeline of a run this daemon did not start: `onEnd` is called once, when no
   * process holds it any more. Returns the function that stops watching, or null when the
   * instance has no lifeline (its run was started before lifelines, or without mkfifo).
   */
  watch(instance: string, onEnd: () => void): (() => void) | null {
    // The name of a process found by its marker is what its environment says: never a path out of the directory.
    if (this.where === null || !isInstanceFileName(instance)) return null;
    let fd: number;
    try {
      fd = fs.openSync(this.fileOf(instance), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
      if (!fs.fstatSync(fd).isFIFO()) {
        fs.closeSync(fd);
        return null;
      }
    } catch {
      return null;
    }
    // Opened while nobody held it: the kernel would never report an end, so look now.
    if (!holdersLeft(fd)) {
      fs.closeSync(fd);
      queueMicrotask(onEnd);
      return () => undefined;
    }
    const socket = new net.Socket({ fd, readable: true, writable: false, allowHalfOpen: true });
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      socket.destroy();
      onEnd();
    };
    socket.on('data', () => undefined); // what a program wrote to it is of no interest
    socket.once('end', end);
    socket.once('error', end);
    return () => {
      ended = true;
      socket.destroy();
    };
  }

  /** Lets go of the instance's lifeline (stopped on purpose, or removed). */
  release(instance: string): void {
    this.failed.delete(instance);
    const fd = this.held.get(instance);
    if (fd === undefined) return;
    this.held.delete(instance);
    closeQuietly(fd);
  }

  /** Deletes the lifelines of instances not in `keep` and not held (the runtime no longer has them). */
  removeExcept(keep: ReadonlySet<string>): void {
    if (this.where === null) return;
    let entries: string[];
    try {
      entries = fs.readdirSync(this.where.dir);
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!entry.endsWith(LIFELINE_SUFFIX)) continue;
      const instance = entry.slice(0, -LIFELINE_SUFFIX.length);
      if (keep.has(instance) || this.held.has(instance)) continue;
      const file = path.join(this.where.dir, entry);
      if (isFifo(file)) fs.rmSync(file, { force: true });
    }
  }

  private fileOf(instance: string): string {
    return path.join(this.where?.dir ?? '', `${instance}${LIFELINE_SUFFIX}`);
  }
}

const LIFELINE_SUFFIX = '.life';

/**
 * False when a non-blocking read says end-of-file (nobody holds it); what is buffered is read
 * away, but at most a full pipe's worth: a run that keeps writing to its descriptor 3 holds
 * the lifeline, and must not keep the daemon in this loop.
 */
function holdersLeft(fd: number): boolean {
  const buf = Buffer.alloc(64 * 1024);
  for (let read = 0; read <= MAX_PIPE_BYTES;) {
    try {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) return false;
      read += n;
    } catch {
      return true; // EAGAIN: held, nothing written
    }
  }
  return true; // more than a pipe can buffer: written to while being read, so held
}

/** Linux's default pipe-max-size: the most an unprivileged writer can leave buffered in a pipe. */
const MAX_PIPE_BYTES = 1024 * 1024;
