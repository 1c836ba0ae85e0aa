import fs from 'node:fs';
import { runCommand } from './run-command';

// A test host's identity: a fresh ed25519 key per host (per rotation), and its fingerprint
// as `ssh-keygen -lf` prints it, which is what an operator compares against.

export const SSH_KEYGEN = '/usr/bin/ssh-keygen';
export const DROPBEARKEY = '/usr/bin/dropbearkey';

export interface HostKey {
  /** Private key file the daemon is started with. */
  path: string;
  /** One OpenSSH public key line, `ssh-ed25519 AAAA...`. */
  publicKey: string;
  type: 'ssh-ed25519';
  /** `SHA256:` and unpadded base64, exactly as `ssh-keygen -lf` prints it. */
  fingerprint: string;
}

/** An OpenSSH-format host key at `path` (replacing any key there). */
export async function generateOpensshHostKey(path: string): Promise<HostKey> {
  removeKeyFiles(path);
  await runCommand([SSH_KEYGEN, '-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', path]);
  return describe(path, fs.readFileSync(`${path}.pub`, 'utf8'));
}

/** A Dropbear-format host key at `path`; its public half is written beside it as `.pub`. */
export async function generateDropbearHostKey(path: string): Promise<HostKey> {
  removeKeyFiles(path);
  await runCommand([DROPBEARKEY, '-t', 'ed25519', '-f', path]);
  const out = (await runCommand([DROPBEARKEY, '-y', '-f', path])).stdout;
  const line = out.split('\n').find((l) => l.startsWith('ssh-ed25519 '));
  if (line === undefined) throw new Error(`dropbearkey -y -f ${path} printed no ssh-ed25519 line: ${out}`);
  fs.writeFileSync(`${path}.pub`, `${line}\n`);
  return describe(path, line);
}

async function describe(path: string, publicLine: string): Promise<HostKey> {
  const [type, blob] = publicLine.trim().split(/\s+/);
  if (type !== 'ssh-ed25519' || blob === undefined) throw new Error(`unexpected host public key in ${path}.pub: ${publicLine}`);
  return { path, publicKey: `${type} ${blob}`, type, fingerprint: await fingerprintOf(`${path}.pub`) };
}

/** `ssh-keygen -lf file` -> "256 SHA256:abc... comment (ED25519)" -> "SHA256:abc...". */
export async function fingerprintOf(publicKeyFile: string): Promise<string> {
  const out = (await runCommand([SSH_KEYGEN, '-l', '-E', 'sha256', '-f', publicKeyFile])).stdout;
  const fingerprint = /^\d+ (SHA256:[A-Za-z0-9+/]+) /.exec(out)?.[1];
  if (fingerprint === undefined) throw new Error(`ssh-keygen -lf ${publicKeyFile} printed no SHA256 fingerprint: ${out}`);
  return fingerprint;
}

function removeKeyFiles(path: string): void {
  fs.rmSync(path, { force: true });
  fs.rmSync(`${path}.pub`, { force: true });
}
