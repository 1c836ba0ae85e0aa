/**
 * How long the backend's event loop is held while an encrypted OpenSSH key at the bcrypt
 * rounds cap (128) is decrypted: the old way (ssh2.utils.parseKey with the passphrase, on this
 * thread, what load-private-key.ts did before the key worker) and the current one
 * (parsePrivateKeyText, which decrypts on the key worker thread), alternately, in one run.
 * Per run: the time until the key is ready and the longest stall of the event loop meanwhile
 * (the longest gap between ticks of a 5 ms interval). The worker's first start is included
 * in the first current-way run, as after a backend start.
 * Usage: npx tsx tests/bench/key-decrypt.bench.ts [--runs 3]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import ssh2 from 'ssh2';
import { fileURLToPath } from 'node:url';
import { createKeyDecryptPool, startKeyDecryptWorker } from '../../electron/backend/hosts/ssh/key-decrypt-pool';
import { parsePrivateKeyText } from '../../electron/backend/hosts/ssh/load-private-key';
import { MAX_KEY_KDF_ROUNDS } from '../../electron/backend/hosts/ssh/private-key-header';
import { loadLine } from './bench-load';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1] || 3);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-key-decrypt-bench-'));
const PASSPHRASE = 'correct horse';
const endpoint = { name: 'bench', address: '198.18.0.5', port: 22 };
// tsx runs this as an ES module, where the pool's module has no __dirname: it is told where it is.
const hostsSsh = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../electron/backend/hosts/ssh');
let workersStarted = 0;
const pool = createKeyDecryptPool({
  startWorker: () => {
    workersStarted++;
    return startKeyDecryptWorker(hostsSsh);
  },
});

/** The key's time to be ready, and the longest gap between turns of the event loop meanwhile (a 5 ms interval's ticks). */
async function measure(decrypt: () => Promise<unknown>): Promise<{ readyMs: number; longestStallMs: number }> {
  const started = performance.now();
  let last = started;
  let longest = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 5);
  await decrypt();
  const ready = performance.now();
  clearInterval(ticker);
  return { readyMs: ready - started, longestStallMs: Math.max(longest, ready - last) };
}

async function main(): Promise<void> {
  const file = path.join(dir, 'at-cap');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-a', String(MAX_KEY_KDF_ROUNDS), '-N', PASSPHRASE, '-C', 'bench', '-f', file]);
  const text = fs.readFileSync(file, 'utf8');
  console.log(loadLine('start', os.cpus().length));
  const ways = {
    'old: on the backend thread': async () => {
      const key = ssh2.utils.parseKey(text, PASSPHRASE);
      if (key instanceof Error) throw key;
    },
    'now: on the key worker': () => parsePrivateKeyText(endpoint, text, PASSPHRASE, { decryptPool: pool }),
  };
  for (let run = 1; run <= runs; run++) {
    for (const [name, decrypt] of Object.entries(ways)) {
      const { readyMs, longestStallMs } = await measure(decrypt);
      console.log(
        `run ${run}  ${name.padEnd(28)}  key ready after ${readyMs.toFixed(0).padStart(6)} ms, event loop held at most ${longestStallMs.toFixed(0).padStart(6)} ms`,
      );
    }
  }
  // A worker that cannot load leaves the pool decrypting on this thread: say which it was.
  console.log(`key workers started: ${workersStarted}`);
  console.log(loadLine('end', os.cpus().length));
  await pool.close();
}

main()
  .finally(() => fs.rmSync(dir, { recursive: true, force: true }))
  .then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
