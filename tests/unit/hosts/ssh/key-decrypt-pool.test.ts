import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import ssh2 from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../../../electron/contract';
import { createKeyDecryptPool, startKeyDecryptWorker, type KeyDecryptPool } from '../../../../electron/backend/hosts/ssh/key-decrypt-pool';
import { parsePrivateKeyText } from '../../../../electron/backend/hosts/ssh/load-private-key';
import { MAX_KEY_KDF_ROUNDS } from '../../../../electron/backend/hosts/ssh/private-key-header';
import { withKdfRounds } from '../../../support/openssh-key-rounds';
import { makeTempDir } from '../../../support/temp-dir';

const dir = makeTempDir('sutazai-key-worker-');
const pools: KeyDecryptPool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
  dir.remove();
});
const endpoint = { name: 'db-2', address: '198.18.0.5', port: 22 };
const PASSPHRASE = 'correct horse';

function keygen(name: string, args: string[], passphrase = PASSPHRASE): string {
  const file = path.join(dir.path, name);
  execFileSync('ssh-keygen', ['-q', '-C', 'test', '-N', passphrase, '-f', file, ...args]);
  return fs.readFileSync(file, 'utf8');
}

// At the cap: ssh2 runs 128 bcrypt rounds in JavaScript (seconds), which the old code did on this thread.
const atCap = keygen('at-cap', ['-t', 'ed25519', '-a', String(MAX_KEY_KDF_ROUNDS)]);
const cheap = keygen('cheap', ['-t', 'ed25519', '-a', '2']);
const plain = keygen('plain', ['-t', 'ed25519'], '');

/** A pool whose workers the test can see (the real worker, started the real way). */
function watchedPool(options: { timeoutMs?: number; maxQueued?: number } = {}): { pool: KeyDecryptPool; started: Worker[] } {
  const started: Worker[] = [];
  const pool = createKeyDecryptPool({
    ...options,
    startWorker: () => {
      const worker = startKeyDecryptWorker();
      started.push(worker);
      return worker;
    },
  });
  pools.push(pool);
  return { pool, started };
}

const online = (worker: Worker): Promise<void> => new Promise((resolve) => worker.once('message', () => resolve()));
const exited = (worker: Worker): Promise<number> => new Promise((resolve) => worker.once('exit', resolve));
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function refusalOf(call: Promise<unknown>): Promise<ApiError> {
  const error = await call.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe('an encrypted key is decrypted off the backend thread', () => {
  // The old code decrypted inside parsePrivateKeyText, on this thread: the key was ready before
  // any other callback ran, so 'decrypted' came first.
  it('keeps the event loop turning, and another key being parsed, while a key at the rounds cap is decrypted', async () => {
    const order: string[] = [];
    const decrypting = Promise.resolve(parsePrivateKeyText(endpoint, atCap, PASSPHRASE)).then((key) => {
      order.push('decrypted');
      return key;
    });
    for (let turn = 0; turn < 3; turn++) await nextTurn();
    order.push('three turns of the event loop');
    expect((await parsePrivateKeyText(endpoint, plain, undefined)).type).toBe('ssh-ed25519');
    order.push('a plain key parsed');
    const key = await decrypting;
    expect(order).toEqual(['three turns of the event loop', 'a plain key parsed', 'decrypted']);
    // The key handed to ssh2 is the one the file holds: it signs what its public key (the .pub file) verifies.
    const publicKey = ssh2.utils.parseKey(fs.readFileSync(path.join(dir.path, 'at-cap.pub'))) as ssh2.ParsedKey;
    expect(key.getPublicSSH().equals(publicKey.getPublicSSH())).toBe(true);
    const signature = key.sign(Buffer.from('login'));
    expect(signature).toBeInstanceOf(Buffer);
    expect(publicKey.verify(Buffer.from('login'), signature as Buffer)).toBe(true);
  }, 60_000);

  it('refuses a wrong passphrase with KEY_PASSPHRASE_WRONG, as before, without holding the event loop', async () => {
    const order: string[] = [];
    const refusing = refusalOf(Promise.resolve(parsePrivateKeyText(endpoint, atCap, 'not the passphrase'))).then((error) => {
      order.push('refused');
      return error;
    });
    await nextTurn();
    order.push('a turn of the event loop');
    const error = await refusing;
    expect(order).toEqual(['a turn of the event loop', 'refused']);
    expect(error.code).toBe('KEY_PASSPHRASE_WRONG');
    expect(error.message).toBe(
      'The passphrase does not decrypt the private key given for host db-2 (198.18.0.5:22); nothing was stored or sent.',
    );
    expect(error.message).not.toContain('not the passphrase');
  }, 60_000);

  it('hands ssh2 every key type it reads, decrypted, as the same key (RSA, ECDSA, Ed25519; OpenSSH and PEM)', async () => {
    const { pool, started } = watchedPool();
    const keys = [
      keygen('rsa', ['-t', 'rsa', '-b', '2048', '-a', '2']),
      keygen('ecdsa-256', ['-t', 'ecdsa', '-b', '256', '-a', '2']),
      keygen('ecdsa-521', ['-t', 'ecdsa', '-b', '521', '-a', '2']),
      keygen('rsa-pem', ['-t', 'rsa', '-b', '2048', '-m', 'PEM']),
      keygen('ecdsa-pem', ['-t', 'ecdsa', '-m', 'PEM']),
      cheap,
    ];
    for (const text of keys) {
      const key = await parsePrivateKeyText(endpoint, text, PASSPHRASE, { decryptPool: pool });
      const direct = ssh2.utils.parseKey(text, PASSPHRASE) as ssh2.ParsedKey;
      expect(key.type).toBe(direct.type);
      expect(key.getPublicSSH().equals(direct.getPublicSSH())).toBe(true);
      expect(key.getPrivatePEM()).toBe(direct.getPrivatePEM());
    }
    // All of them on the worker thread, one after another on the same worker.
    expect(started).toHaveLength(1);
  }, 60_000);
});

describe('the key worker is bounded', () => {
  it('never posts a key asking for more rounds than the cap, even when its caller did not check', async () => {
    const { pool, started } = watchedPool();
    await expect(pool.decrypt(withKdfRounds(cheap, 2 ** 32 - 1), PASSPHRASE)).rejects.toThrow(/refused on its header/);
    expect(started).toHaveLength(0);
  });

  it('cuts off a key that runs past its time with KEY_DECRYPT_FAILED, terminating its worker; the next key gets a fresh one', async () => {
    const { pool, started } = watchedPool({ timeoutMs: 1 });
    const error = await refusalOf(parsePrivateKeyText(endpoint, atCap, PASSPHRASE, { decryptPool: pool }));
    expect(error.code).toBe('KEY_DECRYPT_FAILED');
    expect(error.message).toMatch(
      /^Decrypting the private key given for host db-2 \(198\.18\.0\.5:22\) took longer than .* s and was stopped; nothing was stored or sent\.$/,
    );
    expect(error.remedy).toMatch(/try again.*ssh-keygen -p -a 16 -f COPY/);
    expect(started).toHaveLength(1);
    await exited(started[0]!);
    // Refused for its own time, on a worker of its own: not stuck behind the first.
    expect(await pool.decrypt(cheap, PASSPHRASE)).toEqual({ kind: 'unavailable', reason: 'timeout', limitMs: 1 });
    expect(started).toHaveLength(2);
  }, 60_000);

  it('answers a key whose worker died with KEY_DECRYPT_FAILED, and decrypts the next key on a fresh worker', async () => {
    const { pool, started } = watchedPool();
    const decrypting = refusalOf(parsePrivateKeyText(endpoint, atCap, PASSPHRASE, { decryptPool: pool }));
    while (started.length === 0) await nextTurn();
    await online(started[0]!);
    await started[0]!.terminate();
    const error = await decrypting;
    expect(error.code).toBe('KEY_DECRYPT_FAILED');
    expect(error.message).toMatch(/^The worker thread decrypting the private key given for host db-2 .* stopped before it answered/);
    expect(error.remedy).toMatch(/fresh worker/);
    expect((await parsePrivateKeyText(endpoint, cheap, PASSPHRASE, { decryptPool: pool })).type).toBe('ssh-ed25519');
    expect(started).toHaveLength(2);
  }, 60_000);

  it('refuses a key at once with KEY_DECRYPT_BUSY when as many as it lets wait are waiting, before the first is done', async () => {
    const { pool } = watchedPool({ maxQueued: 1 });
    const order: string[] = [];
    const first = pool.decrypt(atCap, PASSPHRASE).then((outcome) => (order.push('first'), outcome));
    const second = pool.decrypt(atCap, PASSPHRASE).then((outcome) => (order.push('second'), outcome));
    const error = await refusalOf(parsePrivateKeyText(endpoint, atCap, PASSPHRASE, { decryptPool: pool }));
    order.push('third refused');
    expect(error.code).toBe('KEY_DECRYPT_BUSY');
    expect(error.remedy).toMatch(/Try again in a few seconds/);
    // Closing answers the waiting key and the one on the worker; neither is left hanging.
    await pool.close();
    expect(await second).toEqual({ kind: 'unavailable', reason: 'stopping' });
    expect(await first).toEqual({ kind: 'unavailable', reason: 'stopping' });
    expect(order).toEqual(['third refused', 'second', 'first']);
  }, 60_000);

  it('believes nothing a worker answers out of turn or out of shape (KEY_DECRYPT_FAILED)', async () => {
    // A worker that answers another id, then a key that is no string: what a confused or hostile thread might send.
    for (const answer of [
      '{ id: message.id + 1, outcome: { kind: "public-only" } }',
      '{ id: message.id, outcome: { kind: "key", clearKey: 42 } }',
    ]) {
      const pool = createKeyDecryptPool({
        startWorker: () =>
          new Worker(
            `const { parentPort } = require('node:worker_threads');
             parentPort.postMessage({ ready: true });
             parentPort.on('message', (message) => parentPort.postMessage(${answer}));`,
            { eval: true },
          ),
      });
      pools.push(pool);
      const error = await refusalOf(parsePrivateKeyText(endpoint, cheap, PASSPHRASE, { decryptPool: pool }));
      expect(error.code).toBe('KEY_DECRYPT_FAILED');
    }
  }, 60_000);

  it('decrypts on the calling thread, under the same rounds cap, when the worker cannot load', async () => {
    const pool = createKeyDecryptPool({ startWorker: () => new Worker('throw new Error("cannot load the key worker")', { eval: true }) });
    pools.push(pool);
    expect((await parsePrivateKeyText(endpoint, cheap, PASSPHRASE, { decryptPool: pool })).type).toBe('ssh-ed25519');
    expect((await refusalOf(parsePrivateKeyText(endpoint, cheap, 'wrong', { decryptPool: pool }))).code).toBe('KEY_PASSPHRASE_WRONG');
  }, 60_000);

  it('says once that it decrypts on the calling thread, and lets the event loop turn between the keys it then decrypts', async () => {
    const heard: unknown[] = [];
    const pool = createKeyDecryptPool({
      startWorker: () => new Worker('throw new Error("cannot load the key worker")', { eval: true }),
      onNoWorker: (cause) => heard.push(cause),
    });
    pools.push(pool);
    // A ticker that counts the event loop's turns: keys decrypted in one stretch see the same count.
    let turns = 0;
    let ticking = true;
    const tick = (): void => {
      turns += 1;
      if (ticking) setImmediate(tick);
    };
    tick();
    const seenAt: number[] = [];
    const first = pool.decrypt(cheap, PASSPHRASE).then((outcome) => (seenAt.push(turns), outcome));
    const second = pool.decrypt(cheap, PASSPHRASE).then((outcome) => (seenAt.push(turns), outcome));
    expect((await first).kind).toBe('key');
    expect((await second).kind).toBe('key');
    ticking = false;
    expect(seenAt[1]).toBeGreaterThan(seenAt[0]!);
    // Once, with why: the next key goes straight to this thread and says nothing again.
    expect((await pool.decrypt(cheap, PASSPHRASE)).kind).toBe('key');
    expect(heard).toHaveLength(1);
    expect(String(heard[0])).toMatch(/cannot load the key worker/);
  }, 60_000);

  it('tries a worker again for the next key after one failed to start, instead of decrypting every later key here', async () => {
    const started: Worker[] = [];
    const pool = createKeyDecryptPool({
      // The first start meets a shortage (as a thread or memory limit would); the next is the real worker.
      startWorker: () => {
        const worker =
          started.length === 0
            ? new Worker('throw new Error("no thread for the key worker now")', { eval: true })
            : startKeyDecryptWorker();
        started.push(worker);
        return worker;
      },
      onNoWorker: () => {},
    });
    pools.push(pool);
    expect((await pool.decrypt(cheap, PASSPHRASE)).kind).toBe('key');
    expect(started).toHaveLength(1);
    const second = pool.decrypt(cheap, PASSPHRASE);
    expect(started).toHaveLength(2);
    const answered = new Promise<void>((resolve) => started[1]!.once('message', () => resolve()));
    expect((await second).kind).toBe('key');
    // The key went to the worker: it said it was ready.
    await answered;
  }, 60_000);
});
