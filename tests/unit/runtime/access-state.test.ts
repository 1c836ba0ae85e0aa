// The runtime's kept access state (agents-runtime/src/server/access-state.ts) on a real
// directory: what is applied is what a later start reads, an older push is refused and the
// same one again changes nothing, and a file that cannot be used starts the runtime with no
// revocations (said through the callback) rather than not at all.
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ACCESS_STATE_FILE,
  INITIAL_ACCESS_STATE,
  createAccessStateStore,
  normalizeSerial,
  type AccessState,
} from '../../../agents-runtime/src/server/access-state';

const ed25519 = (): string => generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();

function state(version: number, changes: Partial<AccessState> = {}): AccessState {
  return {
    ...INITIAL_ACCESS_STATE,
    version,
    install: 'lab',
    authenticationMethod: 'jwt',
    revokedCertificateSerials: ['00:0A:bc'],
    revokedSubjects: ['Mallory'],
    tokenKeys: [{ keyId: 'k1', publicKeyPem: ed25519() }],
    operators: [{ name: 'Alice', role: 'operator', attributes: { team: 'night' } }],
    ...changes,
  };
}

let dir: string;
let file: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-access-state-unit-'));
  file = path.join(dir, ACCESS_STATE_FILE);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the access state store', () => {
  it('starts with nothing revoked and no token key, and keeps what it applies for the next start', () => {
    const store = createAccessStateStore(file);
    expect(store.current().state).toEqual(INITIAL_ACCESS_STATE);
    store.replace(state(5));
    const again = createAccessStateStore(file).current();
    expect(again.state.version).toBe(5);
    expect(again.isSerialRevoked('ABC')).toBe(true);
    expect(again.isSerialRevoked('abd')).toBe(false);
    expect(again.isSubjectRevoked('mallory')).toBe(true);
    expect(again.operator('alice')).toMatchObject({ name: 'Alice', role: 'operator', attributes: { team: 'night' } });
    expect(again.tokenKey('k1')?.asymmetricKeyType).toBe('ed25519');
    expect(again.tokenKey('k2')).toBeUndefined();
  });

  it('refuses an older version and takes the same one again without a change', () => {
    const store = createAccessStateStore(file);
    const held = store.replace(state(5));
    expect(() => store.replace(state(4))).toThrow(expect.objectContaining({ code: 'ACCESS_STATE_STALE' }));
    expect(store.replace(state(5, { revokedSubjects: [] }))).toBe(held);
    expect(store.current().isSubjectRevoked('mallory')).toBe(true);
  });

  it('refuses a state whose token key is not Ed25519, and keeps the one it holds', () => {
    const store = createAccessStateStore(file);
    store.replace(state(1));
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => store.replace(state(2, { tokenKeys: [{ keyId: 'k2', publicKeyPem: rsa }] }))).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('token key k2 is rsa, not Ed25519') }),
    );
    expect(createAccessStateStore(file).current().state.version).toBe(1);
  });

  it('starts without the state, saying why, when the kept file cannot be used', () => {
    fs.writeFileSync(file, '{"version": 3, "truncat');
    const said: string[] = [];
    const store = createAccessStateStore(file, (detail) => said.push(detail));
    expect(store.current().state).toEqual(INITIAL_ACCESS_STATE);
    expect(said).toHaveLength(1);
    expect(said[0]).toContain('is not a valid access state');
    store.replace(state(1));
    expect(createAccessStateStore(file, (detail) => said.push(detail)).current().state.version).toBe(1);
    expect(said).toHaveLength(1);
  });

  it('writes serials one way however they were written', () => {
    expect(normalizeSerial('00:0A:BC')).toBe('abc');
    expect(normalizeSerial('0abc')).toBe('abc');
    expect(normalizeSerial('00')).toBe('0');
  });
});
