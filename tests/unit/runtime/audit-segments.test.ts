// The runtime's audit log in segments (issue 14, item 6): past its size cap the live audit.log
// is sealed and a new segment begun, chained on to the last hash of the one before; past
// keep_files the oldest segment is dropped after an entry saying so. The verifier reads every
// segment as one chain: an entry edited, removed or reordered in any segment, a whole middle
// segment removed, and an oldest segment removed without its drop recorded are each named,
// and where the kept chain starts is said. Real files in a temporary directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditFields } from '../../../agents-runtime/src/audit/audit-chain';
import {
  AUDIT_LOG_FILE,
  lastEntryOf,
  openAuditFile,
  readAuditSegments,
  verifyAuditFile,
  type AuditLimits,
} from '../../../agents-runtime/src/audit/audit-file';
import { DROP_METHOD, orderSegments } from '../../../agents-runtime/src/audit/audit-segments';
import type { AuditRow } from '../../../agents-runtime/src/audit/verify-audit-chain';
import { parseRuntimeConfig } from '../../../agents-runtime/src/daemon/runtime-config';

let dir = '';
const file = () => path.join(dir, AUDIT_LOG_FILE);

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-audit-segments-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const call = (i: number): AuditFields => ({
  atMs: 1_700_000_000_000 + i,
  operator: 'alice',
  actor: 'certificate:operator',
  peer: '127.0.0.1:5000',
  action: 'control',
  method: 'RestartProcess',
  target: `process agent-${i}`,
  outcome: 'ok',
});

/** Appends `count` calls with these limits (one open, as a daemon's run). */
function appendCalls(count: number, limits: AuditLimits, from = 1): void {
  const log = openAuditFile(file(), limits);
  try {
    for (let i = from; i < from + count; i += 1) log.append(call(i));
  } finally {
    log.close();
  }
}

const segmentNames = () => orderSegments(fs.readdirSync(dir));
const rowsOf = (name: string) =>
  fs
    .readFileSync(path.join(dir, name), 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as AuditRow);
const rewrite = (name: string, change: (lines: string[]) => string[]) => {
  const lines = fs.readFileSync(path.join(dir, name), 'utf8').trimEnd().split('\n');
  fs.writeFileSync(path.join(dir, name), `${change(lines).join('\n')}\n`);
};

// About 300 bytes an entry: 4 KiB holds 13.
const SMALL: AuditLimits = { maxFileBytes: 4096, keepFiles: 100 };

describe('audit log segments', () => {
  it('seals the live log past its cap and chains the next segment to the last hash of the one before', () => {
    appendCalls(40, SMALL);
    const names = segmentNames();
    expect(names.length).toBeGreaterThanOrEqual(3);
    expect(names.at(-1)).toBe(AUDIT_LOG_FILE);
    for (const name of names) {
      expect(fs.statSync(path.join(dir, name)).size).toBeLessThanOrEqual(SMALL.maxFileBytes);
      expect(fs.statSync(path.join(dir, name)).mode & 0o777).toBe(0o600);
    }
    for (let i = 1; i < names.length; i += 1) {
      const before = rowsOf(names[i - 1]!).at(-1)!;
      const first = rowsOf(names[i]!)[0]!;
      expect(names[i - 1]).toBe(i === 1 ? 'audit.log.1' : `audit.log.${rowsOf(names[i - 1]!)[0]!.seq}`);
      expect(first).toMatchObject({ seq: before.seq + 1, prevHash: before.hash });
    }
    const result = verifyAuditFile(file());
    expect(result).toMatchObject({ entries: 40, broken: null, kept: null, segments: names.length, head: { seq: 40 } });
  });

  it('goes on from the newest sealed segment when the live one is gone (a crash between seal and the next entry)', () => {
    appendCalls(20, SMALL);
    const names = segmentNames();
    fs.renameSync(file(), path.join(dir, `audit.log.${rowsOf(AUDIT_LOG_FILE)[0]!.seq}`));
    appendCalls(1, SMALL, 21);
    expect(rowsOf(AUDIT_LOG_FILE)).toHaveLength(1);
    expect(rowsOf(AUDIT_LOG_FILE)[0]!.seq).toBe(21);
    expect(segmentNames()).toHaveLength(names.length + 1);
    expect(verifyAuditFile(file()).broken).toBeNull();
  });

  it('drops the oldest segments past keep_files after an entry saying so, and verify says where the kept chain starts', () => {
    appendCalls(60, { maxFileBytes: 4096, keepFiles: 2 });
    const names = segmentNames();
    expect(names).toHaveLength(3);
    const drops = readAuditSegments(file())
      .flatMap((segment) => segment.text.trimEnd().split('\n'))
      .map((line) => JSON.parse(line) as AuditRow)
      .filter((row) => row.method === DROP_METHOD);
    expect(drops.length).toBeGreaterThan(0);
    expect(drops[0]).toMatchObject({
      actor: 'runtime',
      operator: null,
      target: expect.stringMatching(/^entries \d+ to \d+ dropped \(audit\.log\.\d+\), last hash [0-9a-f]{64}$/),
    });
    const first = rowsOf(names[0]!)[0]!;
    const result = verifyAuditFile(file());
    expect(result.broken).toBeNull();
    expect(result.kept).toMatchObject({ firstSeq: first.seq, prevHash: first.prevHash, anchorDropped: false });
    expect(result.kept!.message).toContain(`The kept chain starts at entry ${first.seq}`);

    // An anchor written down before its segment was dropped cannot be checked: not verified is a failure, never a pass.
    const old = verifyAuditFile(file(), { seq: 1, hash: 'a'.repeat(64) });
    expect(old.broken).toMatchObject({
      seq: 1,
      kind: 'removed',
      message: expect.stringMatching(/^NOT verified against your anchor: entry 1 /),
    });
    expect(old.kept).toMatchObject({ anchorDropped: true });
    // One in the kept chain is checked.
    expect(verifyAuditFile(file(), { seq: result.head!.seq, hash: 'b'.repeat(64) }).broken).toMatchObject({ kind: 'edited' });
  });

  it('finds the oldest kept entries removed after a drop, the rest renumbered or not (the drop names the last dropped hash)', () => {
    appendCalls(60, { maxFileBytes: 4096, keepFiles: 2 });
    const names = segmentNames();
    const first = rowsOf(names[0]!)[0]!;
    const drop = names.flatMap(rowsOf).find((row) => row.method === DROP_METHOD && row.target!.includes(`to ${first.seq - 1} `))!;
    expect(drop.target).toMatch(
      new RegExp(`^entries \\d+ to ${first.seq - 1} dropped \\(audit\\.log\\.\\d+\\), last hash ${first.prevHash}$`),
    );
    const saved = new Map(names.map((name) => [name, fs.readFileSync(path.join(dir, name), 'utf8')]));
    const restore = () => saved.forEach((text, name) => fs.writeFileSync(path.join(dir, name), text));
    // Renumbered: every later seq moved down by 3, so seqs run on with no gap and no hash is computed.
    for (const name of names)
      rewrite(name, (lines) =>
        lines
          .map((line) => JSON.parse(line) as AuditRow)
          .filter((row) => row.seq >= first.seq + 3)
          .map((row) => JSON.stringify({ ...row, seq: row.seq - 3 })),
      );
    expect(verifyAuditFile(file()).broken).toMatchObject({ seq: first.seq, kind: 'removed' });
    restore();
    // Not renumbered: the kept chain starts 3 entries later than the drop says.
    rewrite(names[0]!, (lines) => lines.slice(3));
    expect(verifyAuditFile(file()).broken).toMatchObject({ kind: 'removed' });
    restore();
    expect(verifyAuditFile(file()).broken).toBeNull();
  });

  it('keeps appending to the live segment when sealing it fails (a directory at the sealed name), closing nothing twice', () => {
    // The sealed name and every suffixed one it could fall back to are taken: each rename fails.
    const planted = ['audit.log.1', ...Array.from({ length: 30 }, (_, i) => `audit.log.1.${call(i + 1).atMs}`)];
    const log = openAuditFile(file(), SMALL);
    let other = -1;
    try {
      for (const name of planted) fs.mkdirSync(path.join(dir, name));
      for (let i = 1; i <= 20; i += 1) log.append(call(i));
      // The number the old code closed again on every append would be handed to this file next.
      other = fs.openSync(path.join(dir, 'unrelated'), 'w');
      log.append(call(21));
      expect(() => fs.writeSync(other, 'still mine')).not.toThrow();
      expect(rowsOf(AUDIT_LOG_FILE).map((row) => row.seq)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
      for (const name of planted) fs.rmdirSync(path.join(dir, name));
      log.append(call(22));
    } finally {
      if (other !== -1) fs.closeSync(other);
      log.close();
      for (const name of planted)
        if (fs.statSync(path.join(dir, name), { throwIfNoEntry: false })?.isDirectory()) fs.rmdirSync(path.join(dir, name));
    }
    expect(rowsOf('audit.log.1').at(-1)!.seq).toBe(21);
    expect(rowsOf(AUDIT_LOG_FILE).map((row) => row.seq)).toEqual([22]);
    expect(verifyAuditFile(file()).broken).toBeNull();
  });

  describe('verify across segments finds', () => {
    beforeEach(() => appendCalls(40, SMALL));

    it('an entry edited in a sealed segment', () => {
      const name = segmentNames()[1]!;
      const seq = rowsOf(name)[2]!.seq;
      rewrite(name, (lines) => lines.map((line, i) => (i === 2 ? line.replace('"outcome":"ok"', '"outcome":"ACCESS_DENIED"') : line)));
      expect(verifyAuditFile(file()).broken).toMatchObject({ seq, kind: 'edited' });
    });

    it('an entry removed from a sealed segment', () => {
      const name = segmentNames()[0]!;
      rewrite(name, (lines) => lines.filter((_, i) => i !== 4));
      expect(verifyAuditFile(file()).broken).toMatchObject({ seq: 5, kind: 'removed' });
    });

    it('entries moved between segments and renumbered into each other’s places', () => {
      const [a, b] = segmentNames() as [string, string];
      const lastOfA = rowsOf(a).at(-1)!;
      const firstOfB = rowsOf(b)[0]!;
      rewrite(a, (lines) => [...lines.slice(0, -1), JSON.stringify({ ...firstOfB, seq: lastOfA.seq })]);
      rewrite(b, (lines) => [JSON.stringify({ ...lastOfA, seq: firstOfB.seq }), ...lines.slice(1)]);
      expect(verifyAuditFile(file()).broken).toMatchObject({ seq: lastOfA.seq, kind: 'reordered' });
    });

    it('a whole middle segment removed', () => {
      const names = segmentNames();
      const middle = rowsOf(names[1]!);
      fs.rmSync(path.join(dir, names[1]!));
      expect(verifyAuditFile(file()).broken).toMatchObject({ seq: middle[0]!.seq, kind: 'removed' });
      expect(verifyAuditFile(file()).broken!.message).toContain(`Entries ${middle[0]!.seq} to ${middle.at(-1)!.seq} were removed`);
    });

    it('the oldest segment removed with no entry recording its drop', () => {
      const names = segmentNames();
      const oldest = rowsOf(names[0]!);
      fs.rmSync(path.join(dir, names[0]!));
      const result = verifyAuditFile(file());
      expect(result.broken).toMatchObject({ seq: 1, kind: 'removed' });
      expect(result.broken!.message).toContain(`Entries 1 to ${oldest.at(-1)!.seq} were removed`);
      expect(result.kept).toBeNull();
    });

    it('an entry with seq 0 or an inexact atMs, named by its file and line as a line that is not an entry', () => {
      const name = segmentNames()[1]!;
      const [row] = rowsOf(name);
      for (const bad of [{ seq: 0 }, { seq: -3 }, { atMs: 2 ** 60 }, { seq: 2 ** 60 }]) {
        rewrite(name, (lines) => [JSON.stringify({ ...row, ...bad }), ...lines.slice(1)]);
        expect(verifyAuditFile(file()).broken).toMatchObject({ kind: 'edited', message: expect.stringContaining(`Line 1 of ${name}`) });
      }
    });

    it('a line cut short in a sealed segment, named by its file and line', () => {
      const name = segmentNames()[1]!;
      rewrite(name, (lines) => lines.map((line, i) => (i === 3 ? line.slice(0, 40) : line)));
      expect(verifyAuditFile(file()).broken).toMatchObject({ kind: 'edited', message: expect.stringContaining(`Line 4 of ${name}`) });
    });
  });

  it('finds a segment’s last entry reading backwards in small chunks (a cut-short last line and multibyte targets)', () => {
    const log = openAuditFile(file(), SMALL);
    try {
      for (let i = 1; i <= 5; i += 1) log.append({ ...call(i), target: `process ${'é'.repeat(i * 7)}` });
    } finally {
      log.close();
    }
    const rows = rowsOf(AUDIT_LOG_FILE);
    for (const chunk of [1, 7, 64, 4096]) expect(lastEntryOf(file(), chunk)).toEqual(rows.at(-1));
    fs.appendFileSync(file(), '{"seq":6,"cut');
    for (const chunk of [1, 7, 64, 4096]) expect(lastEntryOf(file(), chunk)).toEqual(rows.at(-1));
    fs.writeFileSync(file(), '');
    expect(lastEntryOf(file())).toBeNull();
  });

  it('takes the caps from runtime.yaml `audit:` and refuses bad values naming the line', () => {
    const base = 'manifest: m.yaml\ntls: { ca: a, cert: b, key: c }\nstate_dir: s\nlog_dir: l\n';
    expect(parseRuntimeConfig(base, '/etc/sutazai/runtime.yaml').audit).toEqual({ maxFileBytes: 2 * 1024 * 1024, keepFiles: 6 });
    expect(parseRuntimeConfig(`${base}audit: { max_file_bytes: 65536, keep_files: 0 }\n`, '/etc/sutazai/runtime.yaml').audit).toEqual({
      maxFileBytes: 65536,
      keepFiles: 0,
    });
    for (const bad of [
      'audit: { max_file_bytes: 100 }',
      'audit: { max_file_bytes: 67108865 }',
      'audit: { keep_files: -1 }',
      'audit: { keep_files: 2.5 }',
      'audit: { keep: 3 }',
    ])
      expect(() => parseRuntimeConfig(`${base}${bad}\n`, '/etc/sutazai/runtime.yaml')).toThrow(/runtime\.yaml:5:\d+/);
  });
});
