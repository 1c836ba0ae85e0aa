// The file of the one-use record of access tokens (agents-runtime server/used-token-record.ts)
// past its bound: the rewrite (a temporary file renamed over it) keeps the entries of tokens
// still alive and drops the expired ones, appends go on after it, and a later start reads back
// every live entry. The verifier's side (a replay after a restart, a damaged file) is in
// used-access-tokens.test.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLOCK_TOLERANCE_S } from '../../../agents-runtime/src/server/token-clock';
import {
  openUsedTokenRecord,
  USED_TOKENS_COMPACT_FLOOR_BYTES,
  USED_TOKENS_FILE,
  type UsedTokenRecord,
} from '../../../agents-runtime/src/server/used-token-record';

const T0_MS = 1_800_000_000_000;
const ENTRY_LINE = /^\d{1,12} [A-Za-z0-9_-]{43}$/;

let dir: string;
let file: string;
const records: UsedTokenRecord[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-used-record-'));
  file = path.join(dir, USED_TOKENS_FILE);
});
afterEach(() => {
  for (const r of records.splice(0)) r.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const open = (nowMs: number): UsedTokenRecord => {
  const r = openUsedTokenRecord(file, nowMs);
  records.push(r);
  return r;
};
const lines = (): string[] => fs.readFileSync(file, 'latin1').split('\n').slice(0, -1);

describe('the record of used access tokens past its bound', () => {
  it('is rewritten with the live entries only, and a later start refuses every one of them', () => {
    const record = open(T0_MS);
    const lineBytes = `${T0_MS / 1000} ${'x'.repeat(43)}\n`.length;
    const toPassBound = Math.ceil(USED_TOKENS_COMPACT_FLOOR_BYTES / lineBytes);
    // Tokens living a minute, then (once they and the tolerance are past) long-lived ones enough to pass the bound.
    const shortLived = Math.floor(toPassBound / 2);
    for (let i = 0; i < shortLived; i += 1) record.add(`short-${i}`, T0_MS + 60_000, T0_MS);
    const later = T0_MS + (60 + CLOCK_TOLERANCE_S + 1) * 1000;
    const longLived = toPassBound;
    for (let i = 0; i < longLived; i += 1) record.add(`long-${i}`, later + 300_000, later);

    // More was appended than the bound: the rewrite dropped the short-lived entries, the rest followed it.
    expect((shortLived + longLived) * lineBytes).toBeGreaterThan(USED_TOKENS_COMPACT_FLOOR_BYTES);
    expect(lines()).toHaveLength(longLived);
    for (const line of lines()) expect(line).toMatch(ENTRY_LINE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual([USED_TOKENS_FILE]);
    expect(record.has('short-0', later)).toBe(false);
    expect(record.has(`long-${longLived - 1}`, later)).toBe(true);

    const again = open(later);
    expect(again.loaded).toEqual({ kept: longLived, expired: 0, skipped: 0, unread: null });
    for (let i = 0; i < longLived; i += 1) expect(again.has(`long-${i}`, later)).toBe(true);
    expect(again.has('short-0', later)).toBe(false);
  });

  it('keeps an entry until its token and the clock tolerance are past, then drops it at the next start', () => {
    const record = open(T0_MS);
    record.add('jti-1', T0_MS + 60_000, T0_MS);
    const edge = T0_MS + 60_000 + CLOCK_TOLERANCE_S * 1000;
    expect(open(edge).has('jti-1', edge)).toBe(true);
    const past = open(edge + 1);
    expect(past.loaded).toEqual({ kept: 0, expired: 1, skipped: 0, unread: null });
    expect(past.has('jti-1', edge + 1)).toBe(false);
    expect(lines()).toEqual([]);
  });
});
