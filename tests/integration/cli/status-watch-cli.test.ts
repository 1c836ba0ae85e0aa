// `sutazai status --watch` as an operator runs it: the CLI in its own process, printing the
// installs' hosts again every 2 s until Ctrl-C (exit 0), each table read afresh from the store
// (an install another process records between two tables shows in the next one), a host it
// cannot reach shown as unreachable with the reason's code, one JSON object per table under
// --json. Order is asserted (before and after the install was recorded), never time windows.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addStandInHost } from '../../support/stand-in-rows';
import { openStore } from '../../../electron/backend/store/open-store';
import { freePorts } from '../../support/free-ports';
import { seedRecordedInstalls } from '../../support/recorded-installs';
import { runSutazai } from '../../support/run-sutazai';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const dir = makeTempDir('sutazai-status-watch-');
const dataDir = path.join(dir.path, 'data');
const waitFor = makeWaitFor({ timeoutMs: 60_000, pollMs: 50 });

interface StatusTable {
  atMs: number;
  hosts: Array<{ install: string; host: string; ok: boolean; error?: { code: string; message: string } }>;
}

/** A watched status in its own process; `stdout` so far, Ctrl-C, and its exit code. */
function watchStatus(...args: string[]) {
  const child = spawn(process.execPath, [path.resolve(__dirname, '../../../bin/sutazai.mjs'), 'status', '--watch', ...args], {
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SUTAZAI_'))), SUTAZAI_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    async interrupt(): Promise<number | null> {
      child.kill('SIGINT');
      return exited;
    },
    kill: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Records an install of one host that nothing answers for (an SSH port on this machine that no one listens on). */
async function recordUnreachableInstall(): Promise<void> {
  const port = await freePorts(1);
  const store = openStore({ dataDir });
  try {
    const { id } = addStandInHost(store.db, 'alpha', '127.0.0.1', port);
    seedRecordedInstalls(store.db, [{ name: 'lab', hosts: [{ hostId: id, state: 'installed' }] }]);
  } finally {
    store.close();
  }
}

beforeAll(() => {
  // Builds the command once (and makes the data directory) before the cases.
  const first = runSutazai(['status', '--json'], dataDir);
  expect(first.stderr).toBe('');
  expect(first.code).toBe(0);
  expect(JSON.parse(first.stdout)).toMatchObject({ hosts: [] });
});
afterAll(() => dir.remove());

describe('sutazai status --watch', () => {
  it('--json: one object per table, each read afresh (an install recorded meanwhile shows next), until Ctrl-C with exit 0', async () => {
    const watch = watchStatus('--json');
    const tables = (): StatusTable[] =>
      watch
        .stdout()
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as StatusTable);
    try {
      await waitFor('two tables before any install', () => tables().length >= 2);
      expect(
        tables()
          .slice(0, 2)
          .map((table) => table.hosts),
      ).toEqual([[], []]);
      await recordUnreachableInstall();
      const withHost = await waitFor('a table with the recorded install’s host', () => tables().find((table) => table.hosts.length > 0));
      const before = tables().length;
      await waitFor('one more table after it', () => tables().length > before);
      expect(await watch.interrupt()).toBe(0);
      expect(withHost.hosts).toEqual([
        expect.objectContaining({ install: 'lab', host: 'alpha', ok: false, error: expect.objectContaining({ code: expect.any(String) }) }),
      ]);
      // Each table is a new reading: in order, never one printed twice.
      const times = tables().map((table) => table.atMs);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(new Set(times).size).toBe(times.length);
      // Once the install is recorded every later table has its host.
      const first = tables().findIndex((table) => table.hosts.length > 0);
      expect(
        tables()
          .slice(first)
          .every((table) => table.hosts.length === 1),
      ).toBe(true);
      expect(watch.stderr()).toBe('');
    } finally {
      watch.kill();
    }
  });

  it('text: each table under the time it was read, the unreachable host with its reason’s code, until Ctrl-C with exit 0', async () => {
    const watch = watchStatus();
    const stamps = () => watch.stdout().match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/gm) ?? [];
    try {
      await waitFor('two tables', () => stamps().length >= 2);
      expect(await watch.interrupt()).toBe(0);
    } finally {
      watch.kill();
    }
    const blocks = watch.stdout().trimEnd().split(/\n\n/);
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    for (const block of blocks.slice(0, 2)) {
      const lines = block.split('\n');
      expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(lines[1]).toMatch(/^INSTALL\s+HOST\s+ROLE\s+STATUS\s+HEALTHY\s+PROCESSES$/);
      expect(lines[2]).toMatch(/^lab\s+alpha\s+both\s+unreachable\s+-\s+[A-Z_]+: /);
    }
    expect(watch.stderr()).toBe('');
  });
});
