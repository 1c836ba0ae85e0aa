import { describe, expect, it } from 'vitest';
import { confirmsFingerprint, fingerprintCommand, opensshKeyLabel, shortFingerprint } from '../../../renderer/src/hosts/fingerprint';

const FP = 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s';

describe('shortFingerprint', () => {
  it('keeps the prefix and the first characters, enough to tell keys apart in a table', () => {
    expect(shortFingerprint(FP)).toBe('SHA256:uNiVztksCsDh…');
    expect(shortFingerprint(FP, 8)).toBe('SHA256:uNiVztks…');
  });

  it('leaves a short or foreign text alone rather than mangling it', () => {
    expect(shortFingerprint('SHA256:abc')).toBe('SHA256:abc');
    expect(shortFingerprint('MD5:12:34')).toBe('MD5:12:34');
  });
});

describe('opensshKeyLabel and fingerprintCommand', () => {
  it('names key types the way ssh-keygen -l does', () => {
    expect(opensshKeyLabel('ssh-ed25519')).toBe('ED25519');
    expect(opensshKeyLabel('ecdsa-sha2-nistp256')).toBe('ECDSA');
    expect(opensshKeyLabel('ssh-rsa')).toBe('RSA');
    expect(opensshKeyLabel('rsa-sha2-512')).toBe('RSA');
  });

  it('points at the host key file of that type', () => {
    expect(fingerprintCommand('ssh-ed25519')).toBe('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub');
    expect(fingerprintCommand('ecdsa-sha2-nistp384')).toBe('ssh-keygen -lf /etc/ssh/ssh_host_ecdsa_key.pub');
    expect(fingerprintCommand('ssh-rsa')).toBe('ssh-keygen -lf /etc/ssh/ssh_host_rsa_key.pub');
    expect(fingerprintCommand('weird-key')).toContain('/etc/ssh/ssh_host_*_key.pub');
  });
});

describe('confirmsFingerprint', () => {
  it('accepts the exact fingerprint, alone or inside a pasted ssh-keygen line', () => {
    expect(confirmsFingerprint(FP, FP)).toBe(true);
    expect(confirmsFingerprint(`256 ${FP} root@db-2 (ED25519)`, FP)).toBe(true);
    expect(confirmsFingerprint(`  ${FP}=\n`, FP)).toBe(true);
  });

  it('refuses a near miss: another case, a character more or less, nothing at all', () => {
    expect(confirmsFingerprint(FP.toLowerCase(), FP)).toBe(false);
    expect(confirmsFingerprint(`${FP}x`, FP)).toBe(false);
    expect(confirmsFingerprint(FP.slice(0, -1), FP)).toBe(false);
    expect(confirmsFingerprint('', FP)).toBe(false);
    expect(confirmsFingerprint('yes', FP)).toBe(false);
  });
});
