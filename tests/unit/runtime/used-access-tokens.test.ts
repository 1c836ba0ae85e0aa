// The one-use record of access tokens kept across restarts (agents-runtime server/
// used-token-record.ts, through the verifier of access-token.ts) on a real directory: a token
// used, then the verifier made again on the same file as a restarted runtime makes it, is
// refused as replayed; expired entries are dropped when the file is read; lines that are not
// entries are skipped and counted and the intact ones still refuse; a file that cannot be
// written refuses the call rather than serving it unrecorded (used-token-record.test.ts: the
// rewrite past the bound). Tokens are the control center's own (electron/backend/pki/access-tokens.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { accessView, INITIAL_ACCESS_STATE, type AccessView } from '../../../agents-runtime/src/server/access-state';
import { createAccessTokenVerifier, type AccessTokenVerifier } from '../../../agents-runtime/src/server/access-token';
import { CLOCK_TOLERANCE_S } from '../../../agents-runtime/src/server/token-clock';
import { generateTokenSigningKey, signAccessToken, type TokenSigningKey } from '../../../electron/backend/pki/access-tokens';

const INSTALL = 'lab';
/** The record's name in the state directory, as the runtime server places it. */
const RECORD = 'access-tokens.used';
const T0_S = Math.floor(Date.now() / 1000);
const ENTRY_LINE = /^\d{1,12} [A-Za-z0-9_-]{43}$/;

let key: TokenSigningKey;
let view: AccessView;
let dir: string;
let file: string;
let nowMs: number;
const verifiers: AccessTokenVerifier[] = [];

beforeAll(() => {
  key = generateTokenSigningKey();
  view = accessView({
    ...INITIAL_ACCESS_STATE,
    version: 1,
    install: INSTALL,
    authenticationMethod: 'jwt',
    tokenKeys: [{ keyId: key.keyId, publicKeyPem: key.publicKeyPem }],
  });
});

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-used-tokens-'));
  file = path.join(dir, RECORD);
  nowMs = T0_S * 1000;
});
afterEach(() => {
  for (const v of verifiers.splice(0)) v.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * A verifier as a runtime starting now makes it: the record read from `file`, the start time
 * the clock's; `startRule: false` leaves out the refusal of tokens issued before the start,
 * to see the record's own.
 */
function start(problems: string[] = [], { startRule = true } = {}): AccessTokenVerifier {
  const v = createAccessTokenVerifier({
    now: () => nowMs,
    ...(startRule ? { startedAtMs: nowMs } : {}),
    usedTokensFile: file,
    onUsedTokensProblem: (detail) => problems.push(detail),
  });
  verifiers.push(v);
  return v;
}

const token = (issuedAtS: number, lifetimeS = 300): Promise<string> =>
  signAccessToken(key, { install: INSTALL, subject: 'alice', role: 'operator', attributes: {}, issuedAtS, lifetimeS });

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e as { code: string; message: string },
  );
  if (error === null) throw new Error('expected the token to be refused');
  return { code: error.code, message: error.message };
}

const lines = (): string[] => fs.readFileSync(file, 'latin1').split('\n').slice(0, -1);

describe('the record of used access tokens across a restart', () => {
  it('refuses a token used before the restart, replayed within the clock tolerance of the new start', async () => {
    const captured = await token(T0_S);
    await expect(start().verify(captured, view)).resolves.toMatchObject({ subject: 'alice' });
    expect(lines()).toHaveLength(1);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);

    // Restarted 10 s later: the token is younger than the start less the tolerance, which alone would let it through.
    nowMs += 10_000;
    const replayed = await refusal(start().verify(captured, view));
    expect(replayed).toMatchObject({ code: 'ACCESS_TOKEN_INVALID', message: expect.stringContaining('was already used') as unknown });
    // A fresh token for the next call goes through.
    await expect(verifiers.at(-1)!.verify(await token(T0_S + 10), view)).resolves.toMatchObject({ subject: 'alice' });
  });

  it('drops the entries of expired tokens when read, and keeps refusing the live ones', async () => {
    const first = start();
    const shortLived = await token(T0_S, 60);
    const longLived = await token(T0_S, 300);
    await first.verify(shortLived, view);
    await first.verify(longLived, view);
    expect(lines()).toHaveLength(2);

    // Past the short one's life and the tolerance: its entry goes, the file is rewritten with the other.
    nowMs += (60 + CLOCK_TOLERANCE_S + 1) * 1000;
    const again = start([], { startRule: false });
    expect(again.usedTokensLoaded).toEqual({ kept: 1, expired: 1, skipped: 0, unread: null });
    expect(lines()).toHaveLength(1);
    expect((await refusal(again.verify(longLived, view))).message).toContain('was already used');
    // The expired token is refused for its expiry, as it would be with any record.
    expect((await refusal(again.verify(shortLived, view))).message).toContain('expired at');
  });

  it('skips and counts lines that are not entries, starts anyway, and still refuses each token whose line is intact', async () => {
    const first = start();
    const a = await token(T0_S);
    const b = await token(T0_S);
    await first.verify(a, view);
    await first.verify(b, view);
    first.close();
    const [lineA, lineB] = lines() as [string, string];
    fs.writeFileSync(
      file,
      [
        'not an entry',
        lineA,
        lineB.slice(0, 20), // cut short by a crash, the next line appended after it
        `\u0000\u00ff\u001b[31m${lineB}`,
        'x'.repeat(100_000),
        `${T0_S + 300} ${'A'.repeat(42)}`,
        lineB,
        '',
      ].join('\n'),
      { mode: 0o644 },
    );
    const problems: string[] = [];
    nowMs += 5_000;
    const again = start(problems);
    expect(again.usedTokensLoaded).toEqual({ kept: 2, expired: 0, skipped: 5, unread: null });
    expect(problems.join('\n')).toContain('5 line(s) are not entries');
    expect((await refusal(again.verify(a, view))).message).toContain('was already used');
    expect((await refusal(again.verify(b, view))).message).toContain('was already used');
    await expect(again.verify(await token(T0_S + 5), view)).resolves.toMatchObject({ subject: 'alice' });
    // Rewritten at start: the entries only, and no longer readable by others.
    expect(lines()).toHaveLength(3);
    for (const line of lines()) expect(line).toMatch(ENTRY_LINE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });
});

describe('a record that cannot be kept', () => {
  it('refuses the call when the use cannot be written, and serves it once the file can be', async () => {
    fs.mkdirSync(file);
    const problems: string[] = [];
    const v = start(problems);
    expect(v.usedTokensLoaded.unread).toBe('it is not a regular file');
    const t = await token(T0_S);
    const refused = await refusal(v.verify(t, view));
    expect(refused.code).toBe('STATE_FILE_INVALID');
    expect(refused.message).toContain('cannot be recorded');
    // Nothing was kept in memory either: once the file can be written, the same token is served, once.
    fs.rmdirSync(file);
    await expect(v.verify(t, view)).resolves.toMatchObject({ subject: 'alice' });
    expect((await refusal(v.verify(t, view))).message).toContain('was already used');
    expect(lines()).toHaveLength(1);
  });

  it('never reads or writes through a symbolic link put in its place', async () => {
    const elsewhere = path.join(dir, 'elsewhere');
    fs.writeFileSync(elsewhere, "not the runtime's\n");
    fs.symlinkSync(elsewhere, file);
    const v = start();
    expect(v.usedTokensLoaded.unread).toBe('it is a symbolic link');
    await v.verify(await token(T0_S), view);
    expect(fs.readFileSync(elsewhere, 'utf8')).toBe("not the runtime's\n");
    expect(fs.lstatSync(file).isFile()).toBe(true);
    expect(lines()).toHaveLength(1);
  });
});
