// One serving backend per data directory: a second web mode on it (a real child process of
// the web entry) is refused with DATA_DIR_IN_USE naming the first, while short CLI commands
// still run beside it; once the first stops, or when its process died, the next one starts.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../../../electron/backend/app/backend';
import { openStore } from '../../../electron/backend/store/open-store';
import { makeTempDir } from '../../support/temp-dir';

const root = path.resolve(__dirname, '../../..');
const dir = makeTempDir('sutazai-owner-');
const dataDir = path.join(dir.path, 'data');
const START_TIMEOUT_MS = 120_000;
afterAll(() => dir.remove());

function serving(): Promise<Backend> {
  return startBackend({ dataDir, logLevel: 'info', mode: 'web', logToConsole: false, sampleLocalHost: false, probeAtStart: false });
}

/** `npm run web`'s entry, from source; resolves once it is ready (then stops it) or has exited. */
function webMode(): Promise<{ ready: boolean; code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, SUTAZAI_RENDERER_DIR: dir.path, SUTAZAI_LOG_LEVEL: 'warn', NO_COLOR: '1' };
    delete env.SUTAZAI_PASSPHRASE;
    const child = spawn(path.join(root, 'node_modules/.bin/tsx'), ['electron/backend/entry/web.ts', '--data-dir', dataDir, '--port', '0'], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let ready = false;
    const keep = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (!ready && output.includes('is ready: http://127.0.0.1:')) {
        ready = true;
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (code) => resolve({ ready, code, output }));
  });
}

function sutazai(args: string[]): { code: number | null; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, SUTAZAI_DATA_DIR: dataDir };
  delete env.SUTAZAI_PASSPHRASE;
  const result = spawnSync(process.execPath, [path.join(root, 'bin/sutazai.mjs'), ...args], {
    cwd: root,
    env,
    encoding: 'utf8',
    input: 'current passphrase 1\nnew passphrase 22\n',
    timeout: START_TIMEOUT_MS,
  });
  return { code: result.status, stderr: result.stderr };
}

describe('one serving backend per data directory', () => {
  it(
    'refuses a second web mode naming the first, lets read-only commands run beside it, and starts once the first stopped',
    async () => {
      const first = await serving();
      try {
        const second = await webMode();
        expect(second.ready).toBe(false);
        expect(second.output).toContain(
          `error DATA_DIR_IN_USE: The data directory ${dataDir} is in use by another control center: web mode (pid ${process.pid}, since `,
        );
        expect(second.output).toContain('remedy: Use that one, or stop it first');
        expect(second.code).toBe(1);

        expect(sutazai(['hosts', 'list', '--json']).code).toBe(0);
        // Re-sealing the vault under a running backend would leave it with a stale key: refused too.
        const change = sutazai(['vault', 'change-passphrase']);
        expect(change.stderr).toContain('error DATA_DIR_IN_USE');
        expect(change.code).toBe(4);
      } finally {
        await first.close();
      }
      const next = await webMode();
      expect(next.output).not.toContain('DATA_DIR_IN_USE');
      expect(next.ready).toBe(true);
    },
    4 * START_TIMEOUT_MS,
  );

  it('takes over from a backend whose process died (or whose pid now runs something else)', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid;
    for (const [pid, started] of [
      [dead, '1'],
      [process.pid, '1'],
    ] as const) {
      const store = openStore({ dataDir });
      store.db
        .prepare(
          "INSERT OR REPLACE INTO data_dir_owner (id, holder, owner_pid, owner_started, token, acquired_at) VALUES (1, 'web', ?, ?, 'left-behind', 1)",
        )
        .run(pid, started);
      store.close();
      const backend = await serving();
      await backend.close();
    }
  });
});
