import { createHmac, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { knownHostsName, matchesHost, parseKnownHosts, preferredKey } from '../../../electron/backend/hosts/parse-known-hosts';
import { makeTempDir } from '../../support/temp-dir';

const dir = makeTempDir();
afterAll(() => dir.remove());

function keyLine(type: 'ed25519' | 'rsa'): { line: string; fingerprint: string } {
  const file = path.join(dir.path, `k-${type}-${Math.random().toString(36).slice(2)}`);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-f', file]);
  const pub = fs.readFileSync(`${file}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  const fingerprint = execFileSync('ssh-keygen', ['-lf', `${file}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
  return { line: pub, fingerprint };
}

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('known_hosts import', () => {
  it('reads plain, hashed and bracketed-port entries with fingerprints as ssh-keygen prints them', () => {
    const a = keyLine('ed25519');
    const b = keyLine('rsa');
    const text = [
      '# comment',
      `198.18.0.5,db-1 ${a.line}`,
      `${hashed('[198.18.0.6]:2222')} ${b.line}`,
      `@cert-authority *.lab ${a.line}`,
      'garbage line',
    ].join('\n');
    const { keys, skipped } = parseKnownHosts(text);
    expect(skipped).toBe(2);
    expect(keys.map((k) => [k.line, k.keyType, k.fingerprint])).toEqual([
      [2, 'ssh-ed25519', a.fingerprint],
      [3, 'ssh-rsa', b.fingerprint],
    ]);
    expect(matchesHost(keys[0]!.patterns, '198.18.0.5', 22)).toBe(true);
    expect(matchesHost(keys[0]!.patterns, '198.18.0.5', 2222)).toBe(false);
    expect(matchesHost(keys[1]!.patterns, '198.18.0.6', 2222)).toBe(true);
    expect(matchesHost(keys[1]!.patterns, '198.18.0.6', 22)).toBe(false);
    expect(matchesHost(['*.lab'], 'x.lab', 22)).toBe(false);
    expect(matchesHost(['db-1', '!db-1'], 'db-1', 22)).toBe(false);
    expect(knownHostsName('::1', 2222)).toBe('[::1]:2222');
    expect(preferredKey(keys)?.keyType).toBe('ssh-ed25519');
  });
});
