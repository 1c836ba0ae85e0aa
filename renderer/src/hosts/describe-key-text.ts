/**
 * What a pasted key looks like, said without quoting it (the field is masked): the form
 * tells the operator at once that a public key or a stray text went in, before anything is
 * sent. The backend parses the key itself (ssh2) and is the judge; this is a first look.
 */
export function describeKeyText(text: string): string {
  const trimmed = text.trim();
  const lines = trimmed.split(/\r?\n/).length;
  const armour = /^-----BEGIN ([A-Z0-9 ]{0,40})-----/.exec(trimmed);
  if (/^(ssh-|ecdsa-sha2-|sk-)[a-z0-9@.-]+ AAAA/.test(trimmed) || /PUBLIC KEY/.test(armour?.[1] ?? ''))
    return 'This is a public key (the .pub file): paste the private key, the file without .pub.';
  if (armour === null || !armour[1]!.endsWith('PRIVATE KEY'))
    return 'This does not look like a private key: it should start with -----BEGIN and a PRIVATE KEY line.';
  if (!new RegExp(`-----END ${armour[1]}-----$`).test(trimmed))
    return `The key's end (-----END ${armour[1]}-----) is missing: paste the whole key.`;
  const kind =
    armour[1] === 'OPENSSH PRIVATE KEY'
      ? 'OpenSSH private key'
      : `PEM ${armour[1]!.replace(/ PRIVATE KEY$/, '').trim() || 'PKCS#8'} private key`;
  return `${kind}, ${lines} lines: it is checked and sealed when you continue.`;
}
