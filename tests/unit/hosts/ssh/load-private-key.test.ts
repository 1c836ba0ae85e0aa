import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiError, MAX_PRIVATE_KEY_TEXT } from '../../../../electron/contract';
import { loadPrivateKey, parsePrivateKeyText } from '../../../../electron/backend/hosts/ssh/load-private-key';
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

describe('a private key sent as its text (web mode has no file to name)', () => {
  const plain = fs.readFileSync(keygen('text-plain', ['-t', 'ed25519', '-N', '']), 'utf8');
  const encrypted = fs.readFileSync(keygen('text-encrypted', ['-t', 'ed25519', '-N', 'correct horse']), 'utf8');
  const pem = fs.readFileSync(keygen('text-pem', ['-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', '']), 'utf8');
  const publicKey = fs.readFileSync(path.join(dir.path, 'text-plain.pub'), 'utf8');

  const refusalOf = (text: string, passphrase?: string): ApiError => {
    try {
      parsePrivateKeyText(endpoint, text, passphrase);
    } catch (error) {
      expect(error).toBeInstanceOf(ApiError);
      return error as ApiError;
    }
    throw new Error('the key text was accepted');
  };

  it('parses OpenSSH and PEM text, and decrypts an encrypted one with its passphrase', () => {
    expect(parsePrivateKeyText(endpoint, plain, undefined).type).toBe('ssh-ed25519');
    expect(parsePrivateKeyText(endpoint, encrypted, 'correct horse').type).toBe('ssh-ed25519');
    expect(parsePrivateKeyText(endpoint, pem, undefined).type).toBe('ssh-rsa');
  });

  it('refuses garbage, a public key and an oversized text with KEY_TEXT_INVALID, a wrong or missing passphrase with KEY_PASSPHRASE_WRONG', () => {
    for (const text of [
      'not a key\n',
      publicKey,
      plain.replace(/[A-Za-z0-9+/]{20}\n/, '!!!!\n'),
      `${plain}\n${'x'.repeat(MAX_PRIVATE_KEY_TEXT)}`,
    ]) {
      const error = refusalOf(text);
      expect(error.code).toBe('KEY_TEXT_INVALID');
      expect(error.remedy).toMatch(/BEGIN line/);
    }
    expect(refusalOf(publicKey).message).toMatch(/public key/);
    expect(refusalOf(encrypted, 'wrong').code).toBe('KEY_PASSPHRASE_WRONG');
    expect(refusalOf(encrypted).message).toMatch(/no passphrase was given/);
  });

  it('never quotes the key or its passphrase in a refusal', () => {
    const body = JSON.stringify([refusalOf(encrypted, 'hunter2-secret').toBody(), refusalOf(plain.slice(0, 200)).toBody()]);
    expect(body).not.toContain('hunter2-secret');
    expect(body).not.toContain(plain.split('\n')[1]!.slice(0, 16));
  });
});
