import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../support/temp-dir';

const root = path.resolve(__dirname, '../../..');
const dir = makeTempDir();

function sutazai(...args: string[]) {
  const result = spawnSync(process.execPath, [path.join(root, 'bin/sutazai.mjs'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, SUTAZAI_DATA_DIR: path.join(dir.path, 'data') },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  // Build once up front so each case measures the command, not the bundler.
  expect(sutazai('help').code).toBe(0);
});
afterAll(() => dir.remove());

describe('sutazai command line', () => {
  it('lists the local machine with its real thread count as JSON', () => {
    const { code, stdout, stderr } = sutazai('hosts', 'list', '--json');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const hosts = JSON.parse(stdout) as Array<{ name: string; kind: string; cpuThreads: number; memoryBytes: number }>;
    const local = hosts.find((h) => h.name === 'local');
    expect(local).toMatchObject({ kind: 'local', cpuThreads: os.cpus().length, memoryBytes: os.totalmem() });
  });

  it('lists hosts without loading the certificate library (only making a CA or a certificate loads it)', () => {
    // Node's CommonJS cache as the command leaves it: the bundle and its packages load through it.
    const preload = path.join(dir.path, 'record-modules.cjs');
    const record = path.join(dir.path, 'modules.json');
    fs.writeFileSync(
      preload,
      "process.on('exit', () => require('node:fs').writeFileSync(process.env.MODULES_OUT, JSON.stringify(Object.keys(require.cache))));\n",
    );
    const run = spawnSync(process.execPath, ['--require', preload, path.join(root, 'bin/sutazai.mjs'), 'hosts', 'list', '--json'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, SUTAZAI_DATA_DIR: path.join(dir.path, 'data'), MODULES_OUT: record },
    });
    expect(run.status, run.stderr).toBe(0);
    const loaded = JSON.parse(fs.readFileSync(record, 'utf8')) as string[];
    expect(loaded.some((file) => file.includes(`${path.sep}better-sqlite3${path.sep}`))).toBe(true);
    expect(loaded.filter((file) => file.includes(`${path.sep}@peculiar${path.sep}`))).toEqual([]);
  });

  it('shows the facts of the local machine for people and for scripts', () => {
    const text = sutazai('hosts', 'show', 'local');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`Threads\\s+${os.cpus().length}\\b`));
    expect(text.stdout).toContain(os.hostname());
    const json = sutazai('hosts', 'show', 'local', '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).facts.memory.totalBytes).toBe(os.totalmem());
  });

  it('uses the same data directory as the app: --data-dir beats SUTAZAI_DATA_DIR', () => {
    const other = path.join(dir.path, 'other');
    expect(sutazai('hosts', 'list', '--data-dir', other, '--json').code).toBe(0);
    const db = new Database(path.join(other, 'sutazai.db'), { readonly: true });
    try {
      expect(db.prepare("SELECT count(*) AS n FROM hosts WHERE name = 'local'").get()).toEqual({ n: 1 });
    } finally {
      db.close();
    }
  });

  it('exits with codes that mean something', () => {
    const missing = sutazai('hosts', 'show', 'db-9');
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('HOST_NOT_FOUND');
    expect(missing.stderr).toContain('remedy:');

    const usage = sutazai('hosts', 'explode');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('BAD_PARAMS');

    const flag = sutazai('hosts', 'list', '--colour');
    expect(flag.code).toBe(2);

    const json = sutazai('hosts', 'show', 'db-9', '--json');
    expect(JSON.parse(json.stdout).error.code).toBe('HOST_NOT_FOUND');
  });

  it('refuses a database written by a newer version and leaves it alone', () => {
    const newer = path.join(dir.path, 'newer');
    expect(sutazai('hosts', 'list', '--data-dir', newer).code).toBe(0);
    const file = path.join(newer, 'sutazai.db');
    const db = new Database(file);
    db.pragma('user_version = 999');
    db.close();
    const result = sutazai('hosts', 'list', '--data-dir', newer);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('STORE_NEWER_VERSION');
    const after = new Database(file, { readonly: true });
    try {
      expect(after.pragma('user_version', { simple: true })).toBe(999);
    } finally {
      after.close();
    }
  });
});
