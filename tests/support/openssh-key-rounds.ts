/**
 * An OpenSSH private key's text with the bcrypt rounds of its header rewritten, the rest left as
 * it is: what a hostile key looks like (ssh2 would run that many rounds on the backend's thread).
 */
export function withKdfRounds(keyText: string, rounds: number): string {
  const lines = keyText.trim().split('\n');
  const body = Buffer.from(lines.slice(1, -1).join(''), 'base64');
  let pos = 15; // "openssh-key-v1\0"
  for (let field = 0; field < 2; field++) pos += 4 + body.readUInt32BE(pos); // ciphername, kdfname
  const saltLength = body.readUInt32BE(pos + 4); // kdfoptions: string salt, uint32 rounds
  body.writeUInt32BE(rounds, pos + 8 + saltLength);
  const base64 = body.toString('base64').match(/.{1,70}/g)!;
  return `${[lines[0], ...base64, lines.at(-1)].join('\n')}\n`;
}
