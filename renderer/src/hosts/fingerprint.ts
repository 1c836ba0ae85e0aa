/**
 * "SHA256:uNiVztksCsDhcc0u…" for a table cell: enough characters to tell keys apart at a
 * glance, never enough to confirm one (the full form is shown wherever trust is decided).
 */
export function shortFingerprint(fingerprint: string, keep = 12): string {
  const match = /^(SHA256:)(.*)$/.exec(fingerprint);
  if (!match) return fingerprint.length > keep + 1 ? `${fingerprint.slice(0, keep)}…` : fingerprint;
  const body = match[2] ?? '';
  return body.length > keep ? `${match[1]}${body.slice(0, keep)}…` : fingerprint;
}

/** The key type as `ssh-keygen -l` names it in parentheses: ED25519, ECDSA, RSA. */
export function opensshKeyLabel(keyType: string): string {
  if (keyType === 'ssh-ed25519') return 'ED25519';
  if (keyType.startsWith('ecdsa-sha2-')) return 'ECDSA';
  if (keyType === 'ssh-rsa' || keyType.startsWith('rsa-sha2-')) return 'RSA';
  if (keyType === 'ssh-dss') return 'DSA';
  if (keyType.startsWith('sk-ssh-ed25519')) return 'ED25519-SK';
  if (keyType.startsWith('sk-ecdsa-')) return 'ECDSA-SK';
  return keyType.toUpperCase();
}

/**
 * The command that prints this key's fingerprint on the machine itself, so the operator
 * can compare what the app received with what the machine holds.
 */
export function fingerprintCommand(keyType: string): string {
  const label = opensshKeyLabel(keyType);
  const file = label.startsWith('ED25519')
    ? 'ed25519'
    : label.startsWith('ECDSA')
      ? 'ecdsa'
      : label === 'RSA'
        ? 'rsa'
        : label === 'DSA'
          ? 'dsa'
          : null;
  return file ? `ssh-keygen -lf /etc/ssh/ssh_host_${file}_key.pub` : 'for f in /etc/ssh/ssh_host_*_key.pub; do ssh-keygen -lf "$f"; done';
}

/**
 * Whether what the operator typed or pasted confirms `fingerprint`: it must contain that
 * exact fingerprint (a whole `ssh-keygen -lf` line is fine; `=` padding is tolerated).
 * Case matters: base64 is case-sensitive, and a near miss is a different key.
 */
export function confirmsFingerprint(typed: string, fingerprint: string): boolean {
  const expected = fingerprint.replace(/=+$/, '');
  const found = typed.match(/SHA256:[A-Za-z0-9+/]+/g) ?? [];
  return found.some((candidate) => candidate === expected);
}
