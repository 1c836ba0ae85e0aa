import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiError, MAX_PRIVATE_KEY_TEXT } from '../../../../electron/contract';
import { keyTextRefusal, loadPrivateKey, parsePrivateKeyText } from '../../../../electron/backend/hosts/ssh/load-private-key';
import { MAX_KEY_KDF_ROUNDS, privateKeyHeaderRefusal } from '../../../../electron/backend/hosts/ssh/private-key-header';
import { withKdfRounds } from '../../../support/openssh-key-rounds';
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

  const refusalOf = async (text: string, passphrase?: string): Promise<ApiError> => {
    try {
      await parsePrivateKeyText(endpoint, text, passphrase);
    } catch (error) {
      expect(error).toBeInstanceOf(ApiError);
      return error as ApiError;
    }
    throw new Error('the key text was accepted');
  };

  it('parses OpenSSH and PEM text, and decrypts an encrypted one with its passphrase', async () => {
    expect((await parsePrivateKeyText(endpoint, plain, undefined)).type).toBe('ssh-ed25519');
    expect((await parsePrivateKeyText(endpoint, encrypted, 'correct horse')).type).toBe('ssh-ed25519');
    expect((await parsePrivateKeyText(endpoint, pem, undefined)).type).toBe('ssh-rsa');
  });

  it('refuses garbage, a public key and an oversized text with KEY_TEXT_INVALID, a wrong or missing passphrase with KEY_PASSPHRASE_WRONG', async () => {
    for (const text of [
      'not a key\n',
      publicKey,
      plain.replace(/[A-Za-z0-9+/]{20}\n/, '!!!!\n'),
      `${plain}\n${'x'.repeat(MAX_PRIVATE_KEY_TEXT)}`,
    ]) {
      const error = await refusalOf(text);
      expect(error.code).toBe('KEY_TEXT_INVALID');
      expect(error.remedy).toMatch(/BEGIN line/);
    }
    expect((await refusalOf(publicKey)).message).toMatch(/public key/);
    expect((await refusalOf(encrypted, 'wrong')).code).toBe('KEY_PASSPHRASE_WRONG');
    expect((await refusalOf(encrypted)).message).toMatch(/no passphrase was given/);
  });

  it('never quotes the key or its passphrase in a refusal', async () => {
    const body = JSON.stringify([(await refusalOf(encrypted, 'hunter2-secret')).toBody(), (await refusalOf(plain.slice(0, 200))).toBody()]);
    expect(body).not.toContain('hunter2-secret');
    expect(body).not.toContain(plain.split('\n')[1]!.slice(0, 16));
  });
});

describe('a key asking for a costly decryption is refused before ssh2 sees it', () => {
  // Two rounds, so the real key decrypts at once; its header is then rewritten.
  const cheap = fs.readFileSync(keygen('rounds-2', ['-t', 'ed25519', '-a', '2', '-N', 'correct horse']), 'utf8');
  const refusalOf = async (text: string, passphrase?: string): Promise<ApiError> => {
    try {
      await parsePrivateKeyText(endpoint, text, passphrase);
    } catch (error) {
      expect(error).toBeInstanceOf(ApiError);
      return error as ApiError;
    }
    throw new Error('the key text was accepted');
  };

  it('reads the rounds a key declares, refusing more than the cap', () => {
    expect(privateKeyHeaderRefusal(Buffer.from(cheap))).toBeNull();
    expect(privateKeyHeaderRefusal(Buffer.from(withKdfRounds(cheap, MAX_KEY_KDF_ROUNDS)))).toBeNull();
    expect(privateKeyHeaderRefusal(Buffer.from(withKdfRounds(cheap, MAX_KEY_KDF_ROUNDS + 1)))).toEqual({ kind: 'kdf-rounds', rounds: 129 });
    expect(privateKeyHeaderRefusal(Buffer.from(withKdfRounds(cheap, 2 ** 32 - 1)))).toEqual({ kind: 'kdf-rounds', rounds: 2 ** 32 - 1 });
    expect(privateKeyHeaderRefusal(Buffer.from(cheap.replace(/\n[^\n]+\n-----END/, '\n-----END').slice(0, 120)))).toBeNull();
  });

  // The old code handed this to ssh2, which ran 100000 bcrypt rounds (about an hour and a half
  // here) on this thread: it never returned within the test's timeout.
  it('refuses an ed25519 key whose rounds were rewritten to 100000 as KEY_TEXT_INVALID, with its passphrase given, and names the remedy', async () => {
    const error = await refusalOf(withKdfRounds(cheap, 100_000), 'correct horse');
    expect(error.code).toBe('KEY_TEXT_INVALID');
    expect(error.message).toMatch(/100000 bcrypt rounds.*at most 128/);
    expect(error.remedy).toContain('ssh-keygen -p -a 64 -f COPY');
    expect(error.remedy).toContain('ssh-keygen -p -N "" -f COPY');
  }, 10_000);

  it('lets a key at the cap reach ssh2 and refuses one round more (the old code let both through to ask for the passphrase)', async () => {
    // No passphrase: ssh2 stops before deriving a key, so this costs nothing at the cap either.
    expect((await refusalOf(withKdfRounds(cheap, MAX_KEY_KDF_ROUNDS))).code).toBe('KEY_PASSPHRASE_WRONG');
    expect((await refusalOf(withKdfRounds(cheap, MAX_KEY_KDF_ROUNDS + 1))).code).toBe('KEY_TEXT_INVALID');
    expect(keyTextRefusal(withKdfRounds(cheap, MAX_KEY_KDF_ROUNDS))).toBeNull();
    expect(keyTextRefusal(withKdfRounds(cheap, MAX_KEY_KDF_ROUNDS + 1))?.why).toMatch(/129 bcrypt rounds/);
  });

  it('refuses such a key in a file too, with the same remedy', async () => {
    const file = path.join(dir.path, 'rounds-hostile');
    fs.writeFileSync(file, withKdfRounds(cheap, 100_000), { mode: 0o600 });
    const error = await loadPrivateKey(endpoint, file, 'correct horse').catch((caught: ApiError) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('KEY_FILE_UNREADABLE');
    expect((error as ApiError).remedy).toMatch(/ssh-keygen -p -a 64 -f COPY.*point the host at the copy/);
  });
});

describe('a key file is read only up to 64 KiB', () => {
  // ssh2's PEM pattern takes quadratic time on a long header block: the old 1 MiB limit let one hold the backend for minutes.
  it('refuses a bigger file before ssh2 parses it', async () => {
    const file = path.join(dir.path, 'pem-headers');
    fs.writeFileSync(file, `-----BEGIN RSA PRIVATE KEY-----\n${'a: b\n'.repeat(14_000)}`, { mode: 0o600 });
    const error = await loadPrivateKey(endpoint, file, undefined).catch((caught: ApiError) => caught);
    expect((error as ApiError).code).toBe('KEY_FILE_UNREADABLE');
    expect((error as ApiError).message).toMatch(/70032 bytes is far too big/);
  });
});

describe('what a key text is refused for says exactly what to do', () => {
  it('names PKCS#8 (openssl genpkey) and how to convert it, not "OpenSSH or PEM"', async () => {
    const file = path.join(dir.path, 'pkcs8');
    execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', file]);
    const error = await parsePrivateKeyText(endpoint, fs.readFileSync(file, 'utf8'), undefined).then(
      () => {
        throw new Error('the PKCS#8 key was accepted');
      },
      (caught: unknown) => caught as ApiError,
    );
    expect(error.code).toBe('KEY_TEXT_INVALID');
    expect(error.message).toMatch(/PKCS#8 format \(BEGIN PRIVATE KEY/);
    expect(error.remedy).toMatch(/ssh-keygen -p -f COPY/);
  });

  it('refuses a passphrase given with a key that has none when a host is added or changed, and ignores it at a login', async () => {
    const text = fs.readFileSync(keygen('no-passphrase', ['-t', 'ed25519', '-N', '']), 'utf8');
    let refused: unknown = null;
    try {
      await parsePrivateKeyText(endpoint, text, 'a passphrase', { refuseUnneededPassphrase: true });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).code).toBe('KEY_PASSPHRASE_WRONG');
    expect((refused as ApiError).message).toMatch(/is not encrypted, but a passphrase was given/);
    const fromFile = await loadPrivateKey(endpoint, path.join(dir.path, 'no-passphrase'), 'a passphrase', {
      refuseUnneededPassphrase: true,
    }).catch((caught: ApiError) => caught);
    expect((fromFile as ApiError).message).toMatch(/is not encrypted/);
    // A login (a host stored by an older version with such a passphrase) still works.
    expect((await parsePrivateKeyText(endpoint, text, 'a passphrase')).type).toBe('ssh-ed25519');
  });
});
