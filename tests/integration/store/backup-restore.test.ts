import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTar } from '../../../electron/backend/bundles/tar-reader';
import { TarWriter } from '../../../electron/backend/bundles/tar-writer';
import { writeBackup } from '../../../electron/backend/store/backup';
import { migrations } from '../../../electron/backend/store/migrations';
import { latestVersion } from '../../../electron/backend/store/run-migrations';
import { tableCounts } from '../../../electron/backend/store/backup';
import { openStore } from '../../../electron/backend/store/open-store';
import { runSutazai, runSutazaiAsync } from '../../support/run-sutazai';
import { makeTempDir } from '../../support/temp-dir';

/**
 * `sutazai backup` while another process keeps writing to the store, then `sutazai restore`
 * onto a fresh data directory (issue 15, item 5): every table's rows as the backup counted
 * them, SQLite's integrity check ok, the vault's sealed rows byte for byte, the release
 * bundles' files; and each bad input refused with the target unchanged.
 */

const PASSPHRASE = 'backup test passphrase 1';
const env = { SUTAZAI_PASSPHRASE: PASSPHRASE, SUTAZAI_LOG_LEVEL: 'silent' };
const tmp = makeTempDir('sutazai-backup-');
const source = path.join(tmp.path, 'source');
const backupFile = path.join(tmp.path, 'site.sutazai-backup');

/**
 * A second process appending facts snapshots as fast as it can, through its own connection
 * (as the serving app's sampler and probes would); it prints each count it reaches.
 */
function startWriter(
  dbFile: string,
  hostId: number,
): { child: ChildProcess; written: () => number; reached: (n: number) => Promise<void>; stop: () => Promise<void> } {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(${JSON.stringify(dbFile)}, { timeout: 5000 });
    const insert = db.prepare('INSERT INTO facts_snapshots (host_id, probed_at, facts) VALUES (?, ?, ?)');
    let n = 0;
    const tick = () => { for (let i = 0; i < 20; i++) insert.run(${hostId}, Date.now(), JSON.stringify({ n: n++ })); process.stdout.write(n + '\\n'); setImmediate(tick); };
    tick();`;
  const child = spawn(process.execPath, ['-e', script], { cwd: path.resolve(__dirname, '../../..'), stdio: ['ignore', 'pipe', 'inherit'] });
  let last = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    const lines = chunk.toString('utf8').trim().split('\n');
    last = Number(lines.at(-1));
    for (const waiter of waiters.filter((w) => last >= w.n)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  });
  return {
    child,
    written: () => last,
    reached: (n) => (last >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))),
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * A backup made over by hand, as anyone can: its manifest edited and members replaced, the
 * manifest's sizes and SHA-256 made to match what it then holds (they prove nothing alone).
 */
async function remade(
  file: string,
  out: string,
  edit: { manifest?: (manifest: Record<string, unknown>) => void; members?: Record<string, Buffer> },
): Promise<string> {
  const members = new Map<string, Buffer>();
  for await (const entry of readTar(fs.createReadStream(file))) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry.body) chunks.push(chunk);
    members.set(entry.name, Buffer.concat(chunks));
  }
  for (const [name, bytes] of Object.entries(edit.members ?? {})) members.set(name, bytes);
  const manifest = JSON.parse(members.get('manifest.json')!.toString('utf8')) as Record<string, unknown> & {
    files: Array<{ name: string; size: number; sha256: string }>;
  };
  for (const listed of manifest.files) {
    const bytes = members.get(listed.name)!;
    listed.size = bytes.length;
    listed.sha256 = createHash('sha256').update(bytes).digest('hex');
  }
  edit.manifest?.(manifest);
  members.set('manifest.json', Buffer.from(JSON.stringify(manifest)));
  const chunks: Buffer[] = [];
  const tar = new TarWriter(async (chunk) => void chunks.push(Buffer.from(chunk)));
  for (const [name, bytes] of members) await tar.addFile(name, { mode: 0o600, mtime: 0, size: bytes.length }, bytes);
  await tar.finish();
  fs.writeFileSync(out, Buffer.concat(chunks));
  return out;
}

function readOnly(file: string): Database.Database {
  return new Database(file, { readonly: true, fileMustExist: true });
}

let backupJson: {
  out: string;
  schemaVersion: number;
  sealedWith: string;
  tables: Record<string, number>;
  files: number;
};

beforeAll(async () => {
  // The local host and its probe, the vault sealed with a passphrase, an audit entry.
  const first = runSutazai(['hosts', 'list', '--json'], source, env);
  expect(first.code, first.stderr).toBe(0);
  fs.mkdirSync(path.join(source, 'bundles'), { recursive: true });
  fs.writeFileSync(path.join(source, 'bundles', 'sutazai-1.2.3.tar'), Buffer.alloc(300_000, 7));
  fs.writeFileSync(path.join(source, 'bundles', '.import-1-2-deadbeef.partial'), 'half a copy');

  const db = readOnly(path.join(source, 'sutazai.db'));
  const hostId = db.prepare<[], { id: number }>("SELECT id FROM hosts WHERE name = 'local'").get()!.id;
  db.close();
  const writer = startWriter(path.join(source, 'sutazai.db'), hostId);
  try {
    await writer.reached(200);
    const before = writer.written();
    const run = await runSutazaiAsync(['backup', '--out', backupFile, '--json'], source, { env });
    expect(run.code, run.stderr).toBe(0);
    backupJson = JSON.parse(run.stdout);
    // The writer went on while the backup ran.
    expect(writer.written()).toBeGreaterThan(before);
  } finally {
    await writer.stop();
  }
}, 180_000);

afterAll(() => tmp.remove());

describe('sutazai backup and restore', () => {
  it('writes one private file whose counts are a moment of the store taken during the writes', () => {
    expect(fs.statSync(backupFile).mode & 0o777).toBe(0o600);
    expect(backupJson).toMatchObject({ out: backupFile, sealedWith: 'passphrase', files: 2 });
    const db = readOnly(path.join(source, 'sutazai.db'));
    try {
      const now = tableCounts(db);
      expect(Object.keys(backupJson.tables).sort()).toEqual(Object.keys(now).sort());
      // The writer's table: some of its rows, not all (it wrote on after the copy).
      expect(backupJson.tables.facts_snapshots).toBeGreaterThan(100);
      expect(backupJson.tables.facts_snapshots).toBeLessThan(now.facts_snapshots!);
      expect(backupJson.tables.hosts).toBe(now.hosts);
      expect(backupJson.tables.vault).toBe(1);
      // The backup is an audited export, with the file it wrote.
      const entry = db
        .prepare<[], { action: string; target: string; outcome: string }>(
          "SELECT action, target, outcome FROM audit_log WHERE method = 'store.backup'",
        )
        .get();
      expect(entry).toEqual({ action: 'export', target: `file ${backupFile}`, outcome: 'ok' });
    } finally {
      db.close();
    }
  });

  it('restores onto a fresh data directory: same counts, integrity ok, the vault sealed as it was, the bundles', () => {
    const target = path.join(tmp.path, 'restored');
    const run = runSutazai(['restore', backupFile, '--json'], target, env);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).tables).toEqual(backupJson.tables);

    const restored = readOnly(path.join(target, 'sutazai.db'));
    const original = readOnly(path.join(source, 'sutazai.db'));
    try {
      expect(restored.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(tableCounts(restored)).toEqual(backupJson.tables);
      const vault = 'SELECT * FROM vault';
      expect(restored.prepare(vault).all()).toEqual(original.prepare(vault).all());
      const hosts = 'SELECT id, name, kind, address FROM hosts ORDER BY id';
      expect(restored.prepare(hosts).all()).toEqual(original.prepare(hosts).all());
      expect(restored.prepare('SELECT count(*) AS n FROM data_dir_owner').get()).toEqual({ n: 0 });
    } finally {
      restored.close();
      original.close();
    }
    expect(fs.readFileSync(path.join(target, 'bundles', 'sutazai-1.2.3.tar'))).toEqual(Buffer.alloc(300_000, 7));
    expect(fs.readdirSync(path.join(target, 'bundles'))).toEqual(['sutazai-1.2.3.tar']);

    // The restored directory is a working store: the app opens it with the same passphrase.
    const list = runSutazai(['hosts', 'list', '--json'], target, env);
    expect(list.code, list.stderr).toBe(0);
  });

  it('refuses a data directory that holds anything, unless forced', () => {
    const target = path.join(tmp.path, 'occupied');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'notes.txt'), 'mine');
    const refused = runSutazai(['restore', backupFile], target, env);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/RESTORE_TARGET_NOT_EMPTY/);
    expect(fs.readdirSync(target)).toEqual(['notes.txt']);

    const forced = runSutazai(['restore', backupFile, '--force', '--json'], target, env);
    expect(forced.code, forced.stderr).toBe(0);
    expect(fs.readdirSync(target).sort()).toEqual(['bundles', 'notes.txt', 'sutazai.db']);
  });

  it('drops the staging folder a killed restore left, rather than calling the directory occupied', () => {
    const target = path.join(tmp.path, 'after-a-killed-restore');
    fs.mkdirSync(path.join(target, '.restore-0badc0de'), { recursive: true });
    fs.writeFileSync(path.join(target, '.restore-0badc0de', 'sutazai.db'), 'half a copy');
    const run = runSutazai(['restore', backupFile, '--json'], target, env);
    expect(run.code, run.stderr).toBe(0);
    expect(fs.readdirSync(target).sort()).toEqual(['bundles', 'sutazai.db']);
  });

  it('refuses a flipped byte, a truncated file and a file that is not a backup, restoring nothing', () => {
    const bytes = fs.readFileSync(backupFile);
    const flipped = Buffer.from(bytes);
    // A byte inside the database member (past the manifest's header and text).
    flipped[8192] = flipped[8192]! ^ 0xff;
    const cases: Array<[string, Buffer]> = [
      ['flipped', flipped],
      ['truncated', bytes.subarray(0, Math.floor(bytes.length / 2))],
      ['not-a-backup', Buffer.from('hello\n')],
    ];
    for (const [name, content] of cases) {
      const file = path.join(tmp.path, `${name}.sutazai-backup`);
      fs.writeFileSync(file, content);
      const target = path.join(tmp.path, `target-${name}`);
      const run = runSutazai(['restore', file], target, env);
      expect(run.code, `${name}: ${run.stderr}`).toBe(4);
      expect(run.stderr, name).toMatch(/BACKUP_INVALID/);
      expect(fs.readdirSync(target), name).toEqual([]);
    }
  });

  it('refuses a backup of a newer schema like a newer database', async () => {
    const newer = path.join(tmp.path, 'newer-source');
    const store = openStore({ dataDir: newer });
    store.db.pragma('user_version = 999');
    const file = path.join(tmp.path, 'newer.sutazai-backup');
    try {
      await writeBackup({ db: store.db, dataDir: newer, out: file, appVersion: '99.0.0', now: Date.now });
    } finally {
      store.close();
    }
    const target = path.join(tmp.path, 'target-newer');
    const run = runSutazai(['restore', file], target, env);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/STORE_NEWER_VERSION/);
    expect(fs.readdirSync(target)).toEqual([]);
  });

  it('believes the database over its manifest: a newer schema, an unreadable database, a field of another type refused, restoring nothing', async () => {
    const newerDir = path.join(tmp.path, 'newer-by-db');
    const store = openStore({ dataDir: newerDir });
    store.db.pragma('user_version = 999');
    const newer = path.join(tmp.path, 'newer-by-db.sutazai-backup');
    try {
      await writeBackup({ db: store.db, dataDir: newerDir, out: newer, appVersion: '99.0.0', now: Date.now });
    } finally {
      store.close();
    }
    const known = latestVersion(migrations);
    const cases: Array<[string, string, RegExp]> = [
      // The manifest claims a schema this app knows; the database inside is newer.
      [
        'schema-claimed-older',
        await remade(newer, path.join(tmp.path, 'schema-claimed-older.sutazai-backup'), {
          manifest: (m) => void (m.schemaVersion = known),
        }),
        /STORE_NEWER_VERSION/,
      ],
      [
        'not-a-database',
        await remade(backupFile, path.join(tmp.path, 'not-a-database.sutazai-backup'), {
          members: { 'sutazai.db': Buffer.alloc(8192, 'x') },
        }),
        /BACKUP_INVALID/,
      ],
      [
        'created-at-text',
        await remade(backupFile, path.join(tmp.path, 'created-at-text.sutazai-backup'), {
          manifest: (m) => void (m.createdAtMs = 'yesterday'),
        }),
        /BACKUP_INVALID/,
      ],
    ];
    for (const [name, file, code] of cases) {
      const target = path.join(tmp.path, `target-${name}`);
      const run = runSutazai(['restore', file], target, env);
      expect(run.code, `${name}: ${run.stderr}`).toBe(4);
      expect(run.stderr, name).toMatch(code);
      expect(fs.readdirSync(target), name).toEqual([]);
    }
  });

  it('never overwrites a file with a backup', () => {
    const run = runSutazai(['backup', '--out', backupFile], source, env);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/BACKUP_OUT_UNWRITABLE/);
  });
});
