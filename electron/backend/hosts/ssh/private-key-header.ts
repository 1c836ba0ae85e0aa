/**
 * What a private key would cost to decrypt, read before ssh2 is given it.
 *
 * ssh2 decrypts an OpenSSH key (openssh-key-v1, kdfname "bcrypt") with bcrypt_pbkdf in
 * plain JavaScript, for as many rounds as the key declares: a few hundred bytes of text can
 * ask for 2^32-1 rounds. That runs on the one key worker thread (key-decrypt-pool.ts), not the
 * backend's, but would still hold it, and every key login queued behind it, for good.
 * So the header is read here first, on the backend's thread (magic, ciphername, kdfname, kdfoptions: salt and
 * rounds), every read bounded by the bytes there are, and a key asking for more rounds
 * than MAX_KEY_KDF_ROUNDS is refused without touching ssh2.
 *
 * The other formats ssh2 reads have no cost parameter: the legacy PEM format derives its
 * key with one MD5 pass (EVP_BytesToKey), PuTTY's version 2 with two SHA-1 hashes (ssh2
 * does not read version 3, which uses Argon2).
 */

/**
 * At most this many bcrypt rounds. OpenSSH's default is 16, and `ssh-keygen -a 100` is common
 * hardening advice, so 128 admits the keys people have. Each round costs about 25-55 ms of a
 * core on a loaded two-core VM (128 rounds: 3.4 s at load 3.5), and this app decrypts the key
 * on every login, one key at a time, so more would keep other key logins waiting. More rounds buy
 * little here anyway: the stored key is sealed in the vault, whose passphrase is stretched
 * with scrypt.
 */
export const MAX_KEY_KDF_ROUNDS = 128;

export type KeyHeaderRefusal =
  | { kind: 'kdf-rounds'; rounds: number }
  | { kind: 'kdf-unknown'; kdf: string }
  | { kind: 'malformed'; detail: string }
  | { kind: 'pkcs8'; encrypted: boolean };

// The same match ssh2's parser makes (lib/protocol/keyParser.js), on the same trimmed text, so
// what is checked here is exactly what it would decrypt.
const OPENSSH_KEY = /^-----BEGIN OPENSSH PRIVATE KEY-----(?:\r\n|\n)([\s\S]+)(?:\r\n|\n)-----END OPENSSH PRIVATE KEY-----$/;
const PKCS8_KEY = /^-----BEGIN (ENCRYPTED )?PRIVATE KEY-----/;
const MAGIC = 'openssh-key-v1\0';
// Names in this header are a few bytes ("aes256-ctr", "bcrypt"); a longer one is no key OpenSSH wrote.
const MAX_NAME = 64;

/** Why this key text must not reach ssh2, or null when ssh2 may parse it (it may still refuse it). */
export function privateKeyHeaderRefusal(data: Buffer): KeyHeaderRefusal | null {
  // ssh2 reads a Buffer as UTF-8 and trims it, as here.
  const text = data.toString('utf8').trim();
  const pkcs8 = PKCS8_KEY.exec(text);
  if (pkcs8) return { kind: 'pkcs8', encrypted: pkcs8[1] !== undefined };
  const match = OPENSSH_KEY.exec(text);
  if (match === null) return null;
  const body = Buffer.from(match[1]!, 'base64');
  const reader = boundedReader(body);
  if (body.length < MAGIC.length || body.toString('latin1', 0, MAGIC.length) !== MAGIC)
    return { kind: 'malformed', detail: 'it does not start with the openssh-key-v1 header' };
  reader.skip(MAGIC.length);
  const cipher = reader.string(MAX_NAME);
  const kdf = reader.string(MAX_NAME);
  const options = reader.string(body.length);
  if (cipher === null || kdf === null || options === null) return { kind: 'malformed', detail: 'its OpenSSH header is cut short' };
  const kdfName = kdf.toString('latin1');
  if (kdfName === 'none') return null;
  // ssh2 knows only bcrypt; anything else it refuses before deriving a key, but say it here.
  if (kdfName !== 'bcrypt') return { kind: 'kdf-unknown', kdf: kdfName.replace(/[^\x20-\x7e]/g, '?') };
  const kdfOptions = boundedReader(options);
  const salt = kdfOptions.string(options.length);
  const rounds = kdfOptions.uint32();
  if (salt === null || rounds === null) return { kind: 'malformed', detail: 'its bcrypt options are cut short' };
  if (rounds > MAX_KEY_KDF_ROUNDS) return { kind: 'kdf-rounds', rounds };
  return null;
}

/** Reads an SSH wire-format buffer; every read is checked against its length (null when it runs past the end). */
function boundedReader(buffer: Buffer) {
  let pos = 0;
  return {
    skip(count: number): void {
      pos += count;
    },
    uint32(): number | null {
      if (pos + 4 > buffer.length) return null;
      const value = buffer.readUInt32BE(pos);
      pos += 4;
      return value;
    },
    string(maxLength: number): Buffer | null {
      if (pos + 4 > buffer.length) return null;
      const length = buffer.readUInt32BE(pos);
      if (length > maxLength || pos + 4 + length > buffer.length) return null;
      const value = buffer.subarray(pos + 4, pos + 4 + length);
      pos += 4 + length;
      return value;
    },
  };
}
