import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { decryptKeyText, type DecryptOutcome } from './decrypt-key-text';
import { privateKeyHeaderRefusal } from './private-key-header';

/**
 * Decrypts encrypted private keys on one worker thread, so that a key being pasted, imported
 * or used for a login never stalls the backend's other clients, the web server or the fleet's
 * links: ssh2 derives an OpenSSH key's cipher key with bcrypt_pbkdf in plain JavaScript, which
 * takes seconds at the rounds cap (128 rounds: about 3 s on a two-core VM at load 3, 7 s at load 10).
 *
 * Bounded: one worker, one key at a time, at most `maxQueued` keys waiting (more are refused
 * at once as 'busy'), and a hard time limit per key after which the worker is terminated (a
 * fresh one takes the next key). A worker that dies answers its key with 'crashed'. What comes
 * back crosses a thread boundary and is checked before it is used. Only keys whose declared
 * bcrypt rounds are within the cap are ever posted (checked again here, before the worker).
 */

export type PoolOutcome =
  | DecryptOutcome
  /** The key was not decrypted: the worker ran out of time (`limitMs`), died, answered nonsense, or was not reached. */
  | { kind: 'unavailable'; reason: 'timeout'; limitMs: number }
  | { kind: 'unavailable'; reason: UnavailableReason };

export type UnavailableReason = 'crashed' | 'bad-answer' | 'busy' | 'stopping';

export interface KeyDecryptPoolOptions {
  /** A key taking longer is cut off (the worker terminated) and answered 'timeout'. */
  timeoutMs?: number;
  /** Keys waiting behind the one being decrypted; one more is answered 'busy'. */
  maxQueued?: number;
  /** How to start the worker; tests pass one that wraps the real start to watch or stop the worker. */
  startWorker?: () => Worker;
  /**
   * Told once, when no worker can start and keys are decrypted on the calling thread instead;
   * default: the backend's log (setKeyWorkerWarning), or a process warning on stderr.
   */
  onNoWorker?: (cause: unknown) => void;
}

export interface KeyDecryptPool {
  decrypt(text: string, passphrase: string): Promise<PoolOutcome>;
  close(): Promise<void>;
}

/** Ten times what a key at the cap takes on a loaded two-core VM: only a stuck or starved worker reaches it. */
export const KEY_DECRYPT_TIMEOUT_MS = 60_000;
/**
 * Keys waiting: every fleet link, probe and install step logging in with an encrypted key
 * decrypts it, and a backend starting with a fleet's links reconnects them together (one
 * refused as busy retries with the link's backoff). Each waits for those before it, seconds
 * each at the cap; the texts are at most 64 KiB each.
 */
export const KEY_DECRYPT_MAX_QUEUED = 32;
// Decryption needs a few MB; ssh2 itself is most of it.
const MAX_MEMORY_MB = 64;
// The largest key text sent is 16 KiB (key files: 64 KiB); its unencrypted PEM is smaller.
const MAX_CLEAR_KEY_CHARS = 64 * 1024;
const MAX_PARSER_MESSAGE_CHARS = 1024;

interface Pending {
  id: number;
  text: string;
  passphrase: string;
  resolve(outcome: PoolOutcome): void;
}

export function createKeyDecryptPool(options: KeyDecryptPoolOptions = {}): KeyDecryptPool {
  const timeoutMs = options.timeoutMs ?? KEY_DECRYPT_TIMEOUT_MS;
  const maxQueued = options.maxQueued ?? KEY_DECRYPT_MAX_QUEUED;
  const queue: Pending[] = [];
  let worker: Worker | null = null;
  let current: { pending: Pending; timer: NodeJS.Timeout } | null = null;
  let nextId = 1;
  let closed = false;
  // A worker that cannot even start (a packaging that cannot load it) leaves the rounds cap as
  // the only bound, as before this pool: keys are then decrypted here rather than refused (a
  // broken build would otherwise end every login with an encrypted key). Said once: each such
  // key holds this thread seconds, which nobody would otherwise trace to a missing worker.
  let workersUnavailable = false;
  let warned = false;
  const noWorker = (cause: unknown): void => {
    workersUnavailable = true;
    if (warned) return;
    warned = true;
    (options.onNoWorker ?? warnNoKeyWorker)(cause);
  };

  const finish = (outcome: PoolOutcome): void => {
    if (current === null) return;
    clearTimeout(current.timer);
    const { pending } = current;
    current = null;
    pending.resolve(outcome);
    pump();
  };

  const dropWorker = (): void => {
    const gone = worker;
    worker = null;
    void gone?.terminate();
  };

  const spawn = (): Worker => {
    const created = options.startWorker ? options.startWorker() : startKeyDecryptWorker();
    // Set by the entry's first message, once its modules have loaded.
    let online = false;
    created.on('message', (message: unknown) => {
      if (worker !== created) return;
      if (isReady(message)) {
        online = true;
        return;
      }
      if (current === null) return;
      const outcome = checkAnswer(message, current.pending.id);
      if (outcome === null) {
        // Not an answer this pool sent for: nothing more from this worker is believed.
        dropWorker();
        finish({ kind: 'unavailable', reason: 'bad-answer' });
        return;
      }
      finish(outcome);
    });
    const fail = (cause: unknown): void => {
      if (worker !== created) return;
      worker = null;
      // Stopped by close(), loaded or not: its key is answered, not decrypted here instead.
      if (closed) {
        finish({ kind: 'unavailable', reason: 'stopping' });
        return;
      }
      if (current !== null && !online) {
        noWorker(cause);
        clearTimeout(current.timer);
        queue.unshift(current.pending);
        current = null;
        pump();
        return;
      }
      finish({ kind: 'unavailable', reason: 'crashed' });
    };
    created.on('error', fail);
    created.on('exit', fail);
    return created;
  };

  const pump = (): void => {
    if (current !== null) return;
    const pending = queue.shift();
    if (pending === undefined) {
      // Only the keys waiting when a worker failed to start are decrypted here: that start may
      // have met a passing shortage (threads, memory, file descriptors an attacker can use up),
      // and the next key tries a worker again rather than every later key holding this thread.
      workersUnavailable = false;
      worker?.unref();
      return;
    }
    if (!workersUnavailable && worker === null) {
      try {
        worker = spawn();
      } catch (error) {
        noWorker(error);
      }
    }
    if (workersUnavailable || worker === null) {
      pending.resolve(decryptHere(pending));
      // One key a turn: the queue (up to maxQueued keys, seconds each at the cap) in one
      // stretch would hold every other client of this thread for minutes. None left: at once,
      // so that the next key tries a worker again.
      if (queue.length > 0) setImmediate(pump);
      else pump();
      return;
    }
    worker.ref();
    const timer = setTimeout(() => {
      if (current?.pending !== pending) return;
      dropWorker();
      finish({ kind: 'unavailable', reason: 'timeout', limitMs: timeoutMs });
    }, timeoutMs);
    current = { pending, timer };
    worker.postMessage({ id: pending.id, text: pending.text, passphrase: pending.passphrase });
  };

  return {
    decrypt(text: string, passphrase: string): Promise<PoolOutcome> {
      // The caller checked the header; a key asking for more rounds must never reach a worker,
      // which would then be cut off only by the time limit, holding a core until it is.
      if (privateKeyHeaderRefusal(Buffer.from(text, 'utf8')) !== null)
        return Promise.reject(new Error('a key refused on its header was sent to be decrypted'));
      if (closed) return Promise.resolve({ kind: 'unavailable', reason: 'stopping' });
      if (queue.length >= maxQueued) return Promise.resolve({ kind: 'unavailable', reason: 'busy' });
      return new Promise<PoolOutcome>((resolve) => {
        queue.push({ id: nextId++, text, passphrase, resolve });
        pump();
      });
    },
    async close(): Promise<void> {
      closed = true;
      for (const pending of queue.splice(0)) pending.resolve({ kind: 'unavailable', reason: 'stopping' });
      const gone = worker;
      await gone?.terminate();
    },
  };
}

const NO_WORKER_WARNING =
  'the key worker thread cannot start, so encrypted private keys are decrypted on the backend thread, holding it for seconds per key';
let warnNoKeyWorker = (cause: unknown): void =>
  process.emitWarning(`${NO_WORKER_WARNING} (${cause instanceof Error ? cause.message : `exit code ${String(cause)}`})`, {
    code: 'SUTAZAI_NO_KEY_WORKER',
  });
/** Where the shared pool says that its worker cannot start (the backend names its log); the last call wins. */
export function setKeyWorkerWarning(warn: (message: string, cause: unknown) => void): void {
  warnNoKeyWorker = (cause) => warn(NO_WORKER_WARNING, cause);
}

function decryptHere(pending: Pending): PoolOutcome {
  try {
    return decryptKeyText(pending.text, pending.passphrase);
  } catch {
    return { kind: 'unavailable', reason: 'crashed' };
  }
}

function isReady(message: unknown): boolean {
  return typeof message === 'object' && message !== null && (message as { ready?: unknown }).ready === true;
}

/**
 * The worker's answer for the key `id`, checked field by field (it comes from another thread):
 * null for anything else. A fault the worker reports is 'crashed'.
 */
function checkAnswer(message: unknown, id: number): PoolOutcome | null {
  if (typeof message !== 'object' || message === null) return null;
  const answer = message as { id?: unknown; outcome?: unknown; fault?: unknown };
  if (answer.id !== id) return null;
  if (typeof answer.fault === 'string') return { kind: 'unavailable', reason: 'crashed' };
  const outcome = answer.outcome as { kind?: unknown; clearKey?: unknown; message?: unknown } | null | undefined;
  if (typeof outcome !== 'object' || outcome === null) return null;
  switch (outcome.kind) {
    case 'key':
      return typeof outcome.clearKey === 'string' && outcome.clearKey.length <= MAX_CLEAR_KEY_CHARS
        ? { kind: 'key', clearKey: outcome.clearKey }
        : null;
    case 'parse-error':
      return typeof outcome.message === 'string' && outcome.message.length <= MAX_PARSER_MESSAGE_CHARS
        ? { kind: 'parse-error', message: outcome.message }
        : null;
    case 'public-only':
      return { kind: 'public-only' };
    default:
      return null;
  }
}

let shared: KeyDecryptPool | undefined;
/** The backend's one key worker, started with the first encrypted key and idle (unreferenced) between keys. */
export function sharedKeyDecryptPool(): KeyDecryptPool {
  shared ??= createKeyDecryptPool();
  return shared;
}

/**
 * The built worker next to the bundle (dist/backend/key-decrypt-worker.cjs); from source (tests,
 * tsx) the TypeScript entry, loaded through tsx's require hook. `dir`: where this module is
 * (given by a caller run as an ES module, where __dirname does not exist).
 */
export function startKeyDecryptWorker(dir: string = __dirname): Worker {
  const resourceLimits = { maxOldGenerationSizeMb: MAX_MEMORY_MB };
  const built = path.join(dir, 'key-decrypt-worker.cjs');
  if (existsSync(built)) return new Worker(built, { resourceLimits });
  const source = path.join(dir, 'key-decrypt-worker.ts');
  const tsx = createRequire(source).resolve('tsx/cjs');
  return new Worker(`require(${JSON.stringify(tsx)}); require(${JSON.stringify(source)});`, { eval: true, resourceLimits });
}
