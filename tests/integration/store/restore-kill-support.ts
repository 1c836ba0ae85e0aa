import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { tableCounts } from '../../../electron/backend/store/backup';
import { openStore } from '../../../electron/backend/store/open-store';
import { addStandInHost } from '../../support/stand-in-rows';

/** What the restore tests that kill the CLI at a step share: an old data directory, and reading what a kill left. */

/** A host only the old data directory has (the backup lacks it). */
export const OLD_HOST = 'old-only-host';
/** A release bundle only the old data directory has: a restore replaces the whole bundles/ folder. */
export const OLD_BUNDLE = 'bundles/old-release.tar';

/** An occupied data directory at `dir`: its own store (with a host the backup lacks), a log, a note of the operator's, and optionally a bundle. */
export function makeOldDirectory(dir: string, { bundle = false } = {}): string {
  const store = openStore({ dataDir: dir });
  try {
    addStandInHost(store.db, OLD_HOST, '198.18.7.7');
  } finally {
    store.close();
  }
  fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'logs', 'control-center.log'), 'an old log line\n');
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
  if (bundle) {
    fs.mkdirSync(path.join(dir, 'bundles'));
    fs.writeFileSync(path.join(dir, OLD_BUNDLE), 'an old release');
  }
  return dir;
}

/** The store's hosts, after SQLite's integrity check passed. */
export function hostNames(dataDir: string): string[] {
  const db = new Database(path.join(dataDir, 'sutazai.db'), { readonly: true, fileMustExist: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    return db
      .prepare<[], { name: string }>('SELECT name FROM hosts ORDER BY name')
      .all()
      .map((r) => r.name);
  } finally {
    db.close();
  }
}

/** Every table's rows but the data directory's claim (which the open that settled a kill takes and drops). */
export function countsWithoutClaim(dataDir: string): Record<string, number> {
  const db = new Database(path.join(dataDir, 'sutazai.db'), { readonly: true, fileMustExist: true });
  try {
    const { data_dir_owner: _owner, ...counts } = tableCounts(db);
    return counts;
  } finally {
    db.close();
  }
}

export function withoutClaim(counts: Record<string, number>): Record<string, number> {
  const { data_dir_owner: _owner, ...rest } = counts;
  return rest;
}

/** The CLI, started, kept in `children` for the caller's cleanup; resolves when it exits (code, or the signal that ended it). */
export function startSutazai(args: string[], dataDir: string, env: Record<string, string>, children: Set<ChildProcess>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SUTAZAI_')));
  const child = spawn(process.execPath, [path.resolve(__dirname, '../../../bin/sutazai.mjs'), ...args], {
    cwd: path.resolve(__dirname, '../../..'),
    env: { ...clean, SUTAZAI_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, exited };
}
