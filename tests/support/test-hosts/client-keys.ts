import fs from 'node:fs';
import path from 'node:path';
import { randomPassword } from './test-users';
import { SSH_KEYGEN } from './host-keys';
import { runCommand } from './run-command';

// The control center's side: the keys a test logs in with. All three are authorised for
// every test user, so any of them can be used against any host.

export interface ClientKey {
  path: string;
  /** The private key file's bytes, as ssh2's `privateKey` option takes them. */
  privateKey: Buffer;
  /** One OpenSSH public key line. */
  publicKey: string;
}

export interface ClientKeys {
  /** Unencrypted ed25519 (OpenSSH format). */
  ed25519: ClientKey;
  /** ed25519 encrypted with `passphrase` (OpenSSH format, bcrypt KDF). */
  encrypted: ClientKey & { passphrase: string };
  /** RSA 3072 (OpenSSH format), for coverage of rsa-sha2-* signatures. */
  rsa: ClientKey;
}

export async function generateClientKeys(dir: string, comment: string): Promise<ClientKeys> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const passphrase = randomPassword();
  const [ed25519, encrypted, rsa] = await Promise.all([
    generate(path.join(dir, 'id_ed25519'), ['-t', 'ed25519', '-N', ''], comment),
    generate(path.join(dir, 'id_ed25519_encrypted'), ['-t', 'ed25519', '-N', passphrase], comment),
    generate(path.join(dir, 'id_rsa'), ['-t', 'rsa', '-b', '3072', '-N', ''], comment),
  ]);
  return { ed25519, encrypted: { ...encrypted, passphrase }, rsa };
}

/** authorized_keys content that accepts every client key. */
export function authorizedKeysFor(keys: ClientKeys): string {
  return [keys.ed25519, keys.encrypted, keys.rsa].map((k) => k.publicKey).join('\n') + '\n';
}

async function generate(file: string, args: readonly string[], comment: string): Promise<ClientKey> {
  await runCommand([SSH_KEYGEN, '-q', ...args, '-C', comment, '-f', file]);
  return { path: file, privateKey: fs.readFileSync(file), publicKey: fs.readFileSync(`${file}.pub`, 'utf8').trim() };
}
