import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend } from '../../../electron/backend/app/backend';
import { commandLineActor } from '../../../electron/backend/server/in-process-transport';
import type { AuditEntry } from '../../../electron/contract';
import { runSutazai } from '../../support/run-sutazai';
import { makeTempDir } from '../../support/temp-dir';

/**
 * `sutazai audit verify|list|export` on a data directory where a backend recorded three
 * calls (a host added, an alert acknowledgement that failed, the host removed): the list
 * and its filters, the export as JSON lines, the verification with its head and anchor,
 * then exit 14 naming the entry once someone with the file edited one.
 */

const dir = makeTempDir('sutazai-audit-cli-');
const dataDir = path.join(dir.path, 'data');
const sutazai = (args: string[]) => runSutazai(args, dataDir);

beforeAll(async () => {
  // Build once up front, so each case measures the command, not the bundler.
  expect(runSutazai(['help'], dataDir).code).toBe(0);
  const backend = await startBackend({
    dataDir,
    logLevel: 'warn',
    mode: 'test',
    logToConsole: false,
    sampleLocalHost: false,
    probeAtStart: false,
  });
  const api = backend.openClient('cli');
  try {
    const host = await api.call('hosts.add', { name: 'audit-db-1', address: '198.18.250.1', user: 'root', auth: { method: 'agent' } });
    await expect(api.call('alerts.ack', { id: 987_654 })).rejects.toMatchObject({ code: 'ALERT_NOT_FOUND' });
    await api.call('hosts.remove', { hostId: host.id });
  } finally {
    api.close();
    await backend.close();
  }
});
afterAll(() => dir.remove());

// Each case runs several CLI processes one after another (each a Node start, the store opened,
// the vault unlocked by its KDF): on a loaded machine that took past 60 s. A hang bound, not a speed check.
describe('sutazai audit', { timeout: 240_000 }, () => {
  let entries: AuditEntry[] = [];

  it('lists the entries oldest first, with filters', () => {
    const listed = sutazai(['audit', 'list', '--json']);
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    entries = JSON.parse(listed.stdout) as AuditEntry[];
    expect(entries.map((e) => [e.seq, e.method, e.target, e.outcome, e.actor])).toEqual([
      [1, 'hosts.add', 'host audit-db-1', 'ok', commandLineActor()],
      [2, 'alerts.ack', 'alert 987654', 'ALERT_NOT_FOUND', commandLineActor()],
      [3, 'hosts.remove', 'host audit-db-1', 'ok', commandLineActor()],
    ]);

    const text = sutazai(['audit', 'list']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^SEQ\s+WHEN\s+WHO\s+FROM\s+ACTION\s+METHOD\s+TARGET\s+OUTCOME/);
    expect(text.stdout).toContain('ALERT_NOT_FOUND');

    const failed = JSON.parse(sutazai(['audit', 'list', '--outcome', 'error', '--json']).stdout) as AuditEntry[];
    expect(failed.map((e) => e.seq)).toEqual([2]);
    const hosts = JSON.parse(sutazai(['audit', 'list', '--action', 'manage-hosts', '--target', 'db-1', '--json']).stdout) as AuditEntry[];
    expect(hosts.map((e) => e.seq)).toEqual([1, 3]);
    expect(JSON.parse(sutazai(['audit', 'list', '--limit', '1', '--json']).stdout)).toMatchObject([{ seq: 3 }]);

    const wrong = sutazai(['audit', 'list', '--action', 'reboot']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('error BAD_PARAMS: --action "reboot" is not an action');
  });

  it('exports every entry as JSON lines, to stdout or a private file', () => {
    const out = sutazai(['audit', 'export']);
    expect(out.code).toBe(0);
    const lines = out.stdout.trimEnd().split('\n');
    expect(lines.map((line) => JSON.parse(line))).toEqual(entries);

    const file = path.join(dir.path, 'audit.jsonl');
    const written = sutazai(['audit', 'export', '--out', file]);
    expect(written.code).toBe(0);
    expect(written.stdout).toContain(`3 audit entries written to ${file}`);
    expect(fs.readFileSync(file, 'utf8')).toBe(`${lines.join('\n')}\n`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('verifies the chain, with an anchor, and names an edited entry with exit 14', () => {
    const head = entries[2]!;
    const ok = sutazai(['audit', 'verify']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('The audit log is as appended: 3 entries');
    expect(ok.stdout).toContain(`Newest entry: 3 ${head.hash}`);
    expect(sutazai(['audit', 'verify', '--anchor', `3:${head.hash}`]).code).toBe(0);
    const badAnchor = sutazai(['audit', 'verify', '--anchor', '3:nothex']);
    expect(badAnchor.code).toBe(2);

    // Someone with the file: the trigger dropped, entry 2's outcome made to look like a success.
    const db = new Database(path.join(dataDir, 'sutazai.db'));
    try {
      db.exec('DROP TRIGGER audit_log_no_update');
      db.prepare("UPDATE audit_log SET outcome = 'ok' WHERE seq = 2").run();
    } finally {
      db.close();
    }
    const broken = sutazai(['audit', 'verify']);
    expect(broken.code).toBe(14);
    expect(broken.stdout).toContain('The audit log is NOT as appended: edited at entry 2.');
    expect(broken.stdout).toContain('Entry 2 was edited');
    expect(JSON.parse(sutazai(['audit', 'verify', '--json']).stdout)).toMatchObject({
      entries: 3,
      broken: { seq: 2, kind: 'edited' },
    });
  });
});
