// The data directory holds the sealed vault: another local user must be able neither to
// read the database nor to copy it away for an offline guess at the passphrase. A real
// backend on a real data directory, its modes read back from the file system.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../../../electron/backend/app/backend';
import { makeTempDir } from '../../support/temp-dir';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = makeTempDir('sutazai-modes-');
  cleanups.push(() => dir.remove());
  return dir.path;
}

async function start(dataDir: string): Promise<Backend> {
  const backend = await startBackend({
    dataDir,
    logLevel: 'info',
    mode: 'cli',
    logToConsole: false,
    sampleLocalHost: false,
    probeAtStart: false,
  });
  cleanups.push(() => backend.close());
  return backend;
}

const modeOf = (file: string): string => (fs.statSync(file).mode & 0o777).toString(8);

describe('data directory modes', () => {
  it.skipIf(process.platform === 'win32')(
    'makes a new data directory 0700 and the database, its -wal and -shm files and the log 0600',
    async () => {
      const dataDir = path.join(tempDir(), 'nested', 'data');
      const backend = await start(dataDir);
      expect(modeOf(dataDir)).toBe('700');
      for (const name of ['sutazai.db', 'sutazai.db-wal', 'sutazai.db-shm']) expect(modeOf(path.join(dataDir, name)), name).toBe('600');
      expect(modeOf(path.join(dataDir, 'logs'))).toBe('700');
      expect(modeOf(backend.logFile)).toBe('600');
    },
  );

  it.skipIf(process.platform === 'win32')(
    'makes an existing 0755 directory with 0644 files private on open, says so in the log, and leaves what is not the app’s alone',
    async () => {
      const root = tempDir();
      const dataDir = path.join(root, 'data');
      const first = await start(dataDir);
      const logFile = first.logFile;
      await cleanups.pop()!();
      // As an older version (or a copy made with a loose umask) left it.
      fs.writeFileSync(path.join(dataDir, 'sutazai.db-wal'), '');
      fs.writeFileSync(path.join(dataDir, 'sutazai.db-shm'), '');
      fs.mkdirSync(path.join(dataDir, 'bundles'));
      fs.writeFileSync(path.join(dataDir, 'bundles', 'app-1.0.0.tar'), 'x');
      fs.writeFileSync(path.join(dataDir, 'notes.txt'), 'the operator’s own file');
      fs.writeFileSync(path.join(root, 'outside.txt'), 'not in the data directory');
      fs.symlinkSync(path.join(root, 'outside.txt'), path.join(dataDir, 'logs', 'link.log'));
      const loose = ['sutazai.db', 'sutazai.db-wal', 'sutazai.db-shm', 'logs/control-center.log', 'bundles/app-1.0.0.tar', 'notes.txt'];
      for (const name of loose) fs.chmodSync(path.join(dataDir, name), 0o644);
      for (const name of ['', 'logs', 'bundles']) fs.chmodSync(path.join(dataDir, name), 0o755);
      fs.chmodSync(path.join(root, 'outside.txt'), 0o644);

      const backend = await start(dataDir);
      expect(modeOf(dataDir)).toBe('700');
      expect(modeOf(path.join(dataDir, 'logs'))).toBe('700');
      expect(modeOf(path.join(dataDir, 'bundles'))).toBe('700');
      for (const name of ['sutazai.db', 'sutazai.db-wal', 'sutazai.db-shm', 'logs/control-center.log', 'bundles/app-1.0.0.tar'])
        expect(modeOf(path.join(dataDir, name)), name).toBe('600');
      // Not the app's: not walked into, not followed.
      expect(modeOf(path.join(dataDir, 'notes.txt'))).toBe('644');
      expect(modeOf(path.join(root, 'outside.txt'))).toBe('644');

      backend.logger.flush?.();
      const line = fs
        .readFileSync(logFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((text) => JSON.parse(text) as { msg: string; changed?: string[] })
        .find((entry) => entry.msg.startsWith('data directory permissions tightened'));
      expect(line?.changed).toEqual(
        expect.arrayContaining([
          `${dataDir} 0755 -> 0700`,
          `${path.join(dataDir, 'sutazai.db')} 0644 -> 0600`,
          `${path.join(dataDir, 'logs', 'control-center.log')} 0644 -> 0600`,
        ]),
      );
    },
  );

  it.skipIf(process.platform === 'win32')(
    'leaves a shared sticky directory (like /tmp) open, and says in the log that it is no place for the data',
    async () => {
      const shared = path.join(tempDir(), 'shared');
      fs.mkdirSync(shared);
      fs.chmodSync(shared, 0o1777);
      const backend = await start(shared);
      expect((fs.statSync(shared).mode & 0o7777).toString(8)).toBe('1777');
      expect(modeOf(path.join(shared, 'sutazai.db'))).toBe('600');
      backend.logger.flush?.();
      expect(fs.readFileSync(backend.logFile, 'utf8')).toContain('a shared directory: give the control center a data directory of its own');
    },
  );
});
