import { createHmac } from 'node:crypto';
import { hostKeyIdentity } from './ssh/host-key-fingerprint';

export interface KnownHostKey {
  line: number;
  keyType: string;
  fingerprint: string;
  publicKey: Buffer;
  /** Plain host patterns, and hashed ones as `|1|salt|hash`. */
  patterns: string[];
}

/**
 * Reads an OpenSSH known_hosts file. @revoked and @cert-authority lines are skipped (a
 * CA or a revocation is not a host's own key); lines that are not keys are counted so
 * the operator hears about them.
 */
export function parseKnownHosts(text: string): { keys: KnownHostKey[]; skipped: number } {
  const keys: KnownHostKey[] = [];
  let skipped = 0;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    if (fields[0]?.startsWith('@')) {
      skipped++;
      return;
    }
    const [hosts, keyType, base64] = fields;
    if (!hosts || !keyType || !base64) {
      skipped++;
      return;
    }
    try {
      const publicKey = Buffer.from(base64, 'base64');
      const identity = hostKeyIdentity(publicKey);
      if (identity.keyType !== keyType) throw new Error('type mismatch');
      keys.push({ line: index + 1, keyType, fingerprint: identity.fingerprint, publicKey, patterns: hosts.split(',') });
    } catch {
      skipped++;
    }
  });
  return { keys, skipped };
}

/** The name OpenSSH records for an address: `addr` on port 22, `[addr]:port` otherwise. */
export function knownHostsName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** Exact and hashed (`|1|salt|HMAC-SHA1`) entries; wildcard patterns are not trusted blindly. */
export function matchesHost(patterns: string[], address: string, port: number): boolean {
  const name = knownHostsName(address, port);
  let matched = false;
  for (const pattern of patterns) {
    if (pattern.startsWith('!')) {
      if (pattern.slice(1) === name) return false;
      continue;
    }
    if (pattern.startsWith('|1|')) {
      const [, , salt, hash] = pattern.split('|');
      if (salt && hash && createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash) matched = true;
    } else if (pattern === name) {
      matched = true;
    }
  }
  return matched;
}

/** When a host has several keys on record, pin the strongest kind first. */
const PREFERENCE = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'ssh-rsa'];
export function preferredKey(keys: KnownHostKey[]): KnownHostKey | undefined {
  const rank = (k: KnownHostKey) => {
    const i = PREFERENCE.indexOf(k.keyType);
    return i < 0 ? PREFERENCE.length : i;
  };
  return [...keys].sort((a, b) => rank(a) - rank(b))[0];
}
