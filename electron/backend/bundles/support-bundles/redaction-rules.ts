/**
 * The built-in redaction rules of a support bundle: what is never written, whatever the
 * operator chooses. Each finds spans of a file's text; `group` names the capture that is
 * the secret (the value after `password=`), the whole match otherwise. Every pattern is
 * anchored on a literal keyword or shape and has no nested repetition, so none can
 * backtrack without bound on a long line.
 */
export interface PatternRule {
  name: string;
  pattern: RegExp;
  /** The capture groups holding the secret, in order of preference (the first that matched). */
  groups?: readonly number[];
}

/**
 * Words that end a key whose value is a secret: `password: x`, `"api_key": "x"`,
 * `SUTAZAI_PASSPHRASE=x`, `db_password=x` (found at the word, whatever comes before it).
 */
const SECRET_KEY = String.raw`(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)`;
/** A value: quoted (up to its quote) or bare (up to a space or a delimiter). */
const VALUE = String.raw`(?:"([^"\n]{1,4096})"|'([^'\n]{1,4096})'|([^\s"',;}\]]{1,4096}))`;

/** A value already replaced (by pino's redaction or by hand): left as it is. */
const NOT_ALREADY_REDACTED = String.raw`(?!["']?\[redacted)(?!["']?\*{3})`;

export const BUILT_IN_RULES: readonly PatternRule[] = [
  {
    // PEM private keys of every kind (PKCS#1, PKCS#8, encrypted, EC, OpenSSH): the whole block.
    name: 'built-in:private-key',
    pattern: /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----|$)/g,
  },
  {
    name: 'built-in:password',
    // key: value, key=value, "key": "value".
    pattern: new RegExp(String.raw`${SECRET_KEY}["']?[ \t]{0,16}[:=][ \t]{0,16}${NOT_ALREADY_REDACTED}${VALUE}`, 'gi'),
    groups: [1, 2, 3],
  },
  {
    // A command line's flag: --password x, --db-token x.
    name: 'built-in:password',
    pattern: new RegExp(String.raw`--[a-z-]{0,32}${SECRET_KEY}[ \t]{1,16}${NOT_ALREADY_REDACTED}${VALUE}`, 'gi'),
    groups: [1, 2, 3],
  },
  {
    // `Authorization: Bearer x`, `Basic x`: the credential after the scheme.
    name: 'built-in:token',
    pattern: /\b(?:Bearer|Basic)\s+([A-Za-z0-9._~+/-]{8,4096}=*)/g,
    groups: [1],
  },
  {
    // JSON Web Tokens: three base64url parts, the first a JSON object.
    name: 'built-in:token',
    pattern: /\beyJ[A-Za-z0-9_-]{4,4096}\.[A-Za-z0-9_-]{4,4096}\.[A-Za-z0-9_-]{0,4096}/g,
  },
  {
    // user:password@ in a URL.
    name: 'built-in:password',
    pattern: /[a-z][a-z0-9+.-]{0,31}:\/\/[^\s:/@]{1,256}:([^\s@/]{1,1024})@/gi,
    groups: [1],
  },
  {
    // Cloud access key ids (AWS's shape), often logged beside their secret.
    name: 'built-in:token',
    pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  },
];

/** IPv4 and IPv6 addresses (the optional rule); loose on purpose: a false hit costs a replaced number, a miss a leak. */
export const ADDRESS_RULE: PatternRule = {
  name: 'addresses',
  // IPv6 only in full (eight groups) or with its `::`, so a time of day (04:12:45) is not taken for one.
  pattern:
    /\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b|\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b|\b(?:[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,5})?|::1\b/gi,
};

/** The shown part of a replaced text: enough to recognise it, never enough to use it. */
export function maskSecret(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  const shown = flat.length >= 12 ? flat.slice(0, 2) : '';
  return `${shown}${'•'.repeat(4)} (${text.length} characters)`;
}
