import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../../../electron/contract';
import { loadPrivateKey } from '../../../../electron/backend/hosts/ssh/load-private-key';
import { makeTempDir } from '../../../support/temp-dir';

const dir = makeTempDir('sutazai-keys-');
afterAll(() => dir.remove());
const endpoint = { name: 'db-2', address: '198.18.0.5', port: 22 };

function keygen(name: string, args: string[]): string {
  const file = path.join(dir.path, name);
  execFileSync('ssh-keygen', ['-q', '-C', 'test', '-f', file, ...args]);
  return file;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ApiError);
  return (error as ApiError).code;
}

describe('reading a private key before connecting', () => {
  const plain = keygen('plain', ['-t', 'ed25519', '-N', '']);
  const encrypted = keygen('encrypted', ['-t', 'ed25519', '-N', 'correct horse']);
  // The old PEM format, which is encrypted differently (DEK-Info, MD5 key derivation).
  const pem = keygen('pem', ['-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', 'correct horse']);

  it('loads a plain key and decrypts an encrypted one with its passphrase', async () => {
    expect((await loadPrivateKey(endpoint, plain, undefined)).type).toBe('ssh-ed25519');
    expect((await loadPrivateKey(endpoint, encrypted, 'correct horse')).type).toBe('ssh-ed25519');
    expect((await loadPrivateKey(endpoint, pem, 'correct horse')).type).toBe('ssh-rsa');
  });

  it('tells a wrong or missing passphrase apart from an unreadable file', async () => {
    expect(await codeOf(loadPrivateKey(endpoint, encrypted, 'wrong'))).toBe('KEY_PASSPHRASE_WRONG');
    expect(await codeOf(loadPrivateKey(endpoint, encrypted, undefined))).toBe('KEY_PASSPHRASE_WRONG');
    expect(await codeOf(loadPrivateKey(endpoint, pem, undefined))).toBe('KEY_PASSPHRASE_WRONG');
    expect(await codeOf(loadPrivateKey(endpoint, path.join(dir.path, 'missing'), undefined))).toBe('KEY_FILE_UNREADABLE');
    expect(await codeOf(loadPrivateKey(endpoint, dir.path, undefined))).toBe('KEY_FILE_UNREADABLE');
    expect(await codeOf(loadPrivateKey(endpoint, `${plain}.pub`, undefined))).toBe('KEY_FILE_UNREADABLE');
    const garbage = path.join(dir.path, 'garbage');
    fs.writeFileSync(garbage, 'not a key\n');
    expect(await codeOf(loadPrivateKey(endpoint, garbage, undefined))).toBe('KEY_FILE_UNREADABLE');
  });

  it('never puts the passphrase in the message', async () => {
    const error = await loadPrivateKey(endpoint, encrypted, 'hunter2-secret').catch((caught: ApiError) => caught);
    expect(JSON.stringify((error as ApiError).toBody())).not.toContain('hunter2-secret');
  });
});
