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
 * Words that name a secret in a key: `password: x`, `"api_key": "x"`, `SUTAZAI_PASSPHRASE=x`,
 * `db_password=x`, `MYSQL_PWD=x`, `Pwd=x;` (found at the word, whatever comes before it), and
 * keys that go on after the word with a word of what the secret is (`SECRET_KEY=x`,
 * `"secretKey": "x"`, `SECRET_KEY_BASE=x`, `password_hash`), not any word: `sudoPasswordVerified`
 * and `token_count` hold no secret. A bare `pass` counts only as the whole key (`pass: x`),
 * not as the start of `passes`.
 */
const SECRET_WORD = String.raw`(?:pass(?:word|wort|wd|phrase)|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|session[_-]?(?:id|token|key))`;
const SECRET_SUFFIX = String.raw`(?:[_.-]?(?:key|value|base|hash|salt|seed|string|text|data|b64|base64|hex|bytes|file|id))`;
/**
 * Where a word starts: `\b`, and also right after a quote written by its code (`\u0022token`),
 * where `\b` sees only the digit before it. (`\x75` is `u`, so a pattern made upper case keeps it.)
 */
const WORD_START = String.raw`(?:\b|(?<=\\\x7500(?:22|27)))`;
export const SECRET_KEY = String.raw`(?:${SECRET_WORD}${SECRET_SUFFIX}{0,2}|${WORD_START}pass)`;
/**
 * A quote as it stands at any depth of JSON quoted inside JSON strings (each level doubles the
 * backslashes before it: `"`, `\"`, `\\\"`, ...; no depth limit, the run is matched once), and
 * as encoders that escape quotes by their code write it (.NET's default, PHP's JSON_HEX_QUOT):
 * `\u0022`, `\\u0022`.
 */
const UNICODE_QUOTE = String.raw`u00(?:22|27)`;
export const ANY_QUOTE = String.raw`(?:\\*["']|\\+${UNICODE_QUOTE})`;
/**
 * A value: quoted (up to its closing quote, past escaped ones: JSON's `\"`) or bare (up to a
 * space or a delimiter; not a JSON object or list, whose own keys are judged on their own).
 */
const QUOTED = String.raw`"((?:[^"\\\n]|\\.){1,4096})"|'((?:[^'\\\n]|\\.){1,4096})'`;
/**
 * A value quoted inside a JSON string (an event's message holding `{\"password\":\"x\"}`):
 * opened by a run of backslashes and a quote, closed by the same run and a quote. Inside it a
 * run of backslashes is taken whole with what it escapes (a deeper quote, `\\n`), unless it is
 * the closing one, so the value is replaced whole and no escape is cut in half.
 */
const ESCAPED_QUOTED = String.raw`(?<!\\)(?<open>\\+)"((?:[^"\\\n]|(?!\k<open>")(?=(?<run>\\+))\k<run>[^\n]){1,4096})\k<open>"`;
/** The same, its quotes written by their code (`{\u0022password\u0022:\u0022x\u0022}`). */
const UNICODE_QUOTED = String.raw`(?<!\\)(?<uopen>\\+)u0022((?:[^"\\\n]|(?!\k<uopen>u0022)(?=(?<urun>\\+))\k<urun>[^\n]){1,4096})\k<uopen>u0022`;
/**
 * A bare value's characters: a backslash run only with what it escapes, and an escaped quote
 * only when the value goes on after it (`pass=ab\"cd`), so a value that ends at an escaped
 * quote (`password: x\"}` in an event's message, or `x\u0022}`) leaves the escape whole and
 * the line JSON.
 */
const BARE_START = String.raw`[^\s"',;}\]\\]`;
const BARE_CHAR = String.raw`(?:${BARE_START}|\\+(?:(?:["']|${UNICODE_QUOTE})(?=${BARE_START})|(?!${UNICODE_QUOTE})(?=[^\s"'\\,;}\]])))`;
/** The quoted forms of a value, then the bare one (its capture is the last). */
const QUOTED_VALUE = String.raw`${QUOTED}|${ESCAPED_QUOTED}|${UNICODE_QUOTED}`;
const VALUE = String.raw`(?:${QUOTED_VALUE}|((?![{\[])${BARE_CHAR}${BARE_CHAR}{0,4095}))`;
/** The capture groups of VALUE holding the secret: double-quoted, single-quoted, quoted inside a string (by `\"`, by `\u0022`), bare. */
const VALUE_GROUPS = [1, 2, 4, 7, 9] as const;
/** Where a bare value ends. */
const VALUE_END = String.raw`(?![^\s"',;}\]\\])`;

/**
 * A value already replaced (by pino's redaction or by hand): left as it is. Only a value that
 * is that whole: `password=***hunter2` is still a password. JSON's true, false and null are
 * no secret (and replacing them would break the file's JSON).
 */
const NOT_ALREADY_REDACTED = String.raw`(?!${ANY_QUOTE}?\[redacted[^\]\n]{0,40}\]${ANY_QUOTE}?${VALUE_END})(?!${ANY_QUOTE}?\*{3,16}${ANY_QUOTE}?${VALUE_END})(?!(?:true|false|null)${VALUE_END})`;
/**
 * A YAML block scalar's header (`password: |`, `>-`, `|2 # comment`): its value is the
 * indented lines below (redaction-blocks.ts), so the indicator is left and the file stays YAML.
 */
const NOT_BLOCK_INDICATOR = String.raw`(?![|>][-+1-9]{0,2}[ \t]{0,16}(?:#[^\n]{0,1024})?(?:\r?\n|$|\\+[nr]))`;
/** The end of a line after a value: its break, the text's end, or the end of the JSON string holding it. */
const LINE_END_AHEAD = String.raw`(?=[ \t]{0,16}(?:\r?\n|$|\\+[nr]|\\*["']|\\+${UNICODE_QUOTE}))`;
/** The runtime's stamp on each line of an instance's log in a bundle (support-collect.ts: `time stream text`). */
const LOG_STAMP = String.raw`(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (?:out|err) )`;

/** A pattern's letters in upper case only (escapes such as `\b` kept): for a rule that must not ignore case. */
function upperCase(source: string): string {
  return source.replace(/\\.|[a-z]/g, (m) => (m.length === 2 ? m : m.toUpperCase()));
}
/** A pattern's letters in either case, for a part of a rule that otherwise heeds case. */
function eitherCase(source: string): string {
  return source.replace(/\\.|[a-z]/gi, (m) => (m.length === 2 ? m : `[${m.toLowerCase()}${m.toUpperCase()}]`));
}

/** The armour lines of a private key: PEM's five dashes (PKCS#1, PKCS#8, encrypted, EC, OpenSSH, PGP) and RFC 4716's four (SSH2). */
const KEY_ARMOUR = (word: 'BEGIN' | 'END'): string => String.raw`-{4,5} ?${word} [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)? ?-{4,5}`;
/** The END line of a private key, found on its own: a key whose BEGIN line a log's tail cut off. */
export const PRIVATE_KEY_END = new RegExp(KEY_ARMOUR('END'), 'g');
export const PRIVATE_KEY_BEGIN = new RegExp(KEY_ARMOUR('BEGIN'), 'g');

export const BUILT_IN_RULES: readonly PatternRule[] = [
  {
    // Private keys of every armour (PEM's kinds, PGP, SSH2): the whole block, to the text's end when cut there.
    name: 'built-in:private-key',
    pattern: new RegExp(String.raw`${KEY_ARMOUR('BEGIN')}[\s\S]*?(?:${KEY_ARMOUR('END')}|$)`, 'g'),
  },
  {
    // PuTTY's private key file: from its first line to its MAC.
    name: 'built-in:private-key',
    pattern: /PuTTY-User-Key-File-\d{1,2}:[\s\S]*?(?:Private-MAC:[ \t]{0,16}[0-9a-fA-F]{0,128}|$)/g,
  },
  {
    name: 'built-in:password',
    // key: value, key=value, "key": "value".
    pattern: new RegExp(
      String.raw`${SECRET_KEY}${ANY_QUOTE}?[ \t]{0,16}[:=][ \t]{0,16}${NOT_ALREADY_REDACTED}${NOT_BLOCK_INDICATOR}${VALUE}`,
      'gi',
    ),
    groups: VALUE_GROUPS,
  },
  {
    // A command line's flag: --password x, --db-token x; also as items of a JSON array ("--password", "x"), on one line or two.
    name: 'built-in:password',
    pattern: new RegExp(
      String.raw`--[a-z-]{0,32}${SECRET_KEY}(?:[ \t]{1,16}|${ANY_QUOTE}[ \t]{0,16},[ \t]{0,16}\n?[ \t]{0,64})${NOT_ALREADY_REDACTED}${VALUE}`,
      'gi',
    ),
    groups: VALUE_GROUPS,
  },
  {
    // A key and its value with only spaces between, as a line of its own: `password hunter2` in a .netrc or an
    // sshd-like file, `requirepass x` and `masterauth x` (Redis); also after the runtime's stamp in an instance's log.
    // Only a key and one value make the line: `password reset for alice` is prose, left.
    name: 'built-in:password',
    pattern: new RegExp(
      String.raw`(?:^|(?<=\n|\\n))${LOG_STAMP}?[ \t]{0,64}(?:[a-z0-9_.-]{0,64}[_.-])?(?:${SECRET_KEY}|requirepass|masterauth)[ \t]{1,16}(?![:=])${NOT_ALREADY_REDACTED}${VALUE}${LINE_END_AHEAD}`,
      'gi',
    ),
    groups: VALUE_GROUPS,
  },
  {
    // The same at the start of a JSON string that holds a whole file (a line break follows the value): an event's
    // message quoting a configuration. A one-line string (`{"msg":"password incorrect"}`) is prose, left.
    name: 'built-in:password',
    pattern: new RegExp(
      String.raw`(?<=["']|\\u0022)[ \t]{0,64}(?:[a-z0-9_.-]{0,64}[_.-])?(?:${SECRET_KEY}|requirepass|masterauth)[ \t]{1,16}(?![:=])${NOT_ALREADY_REDACTED}${VALUE}(?=[ \t]{0,16}\\+[nr])`,
      'gi',
    ),
    groups: VALUE_GROUPS,
  },
  {
    // An upper-case key (an environment variable's name) and its value with only spaces between, anywhere on a line, the
    // value ending it: `DB_PASSWORD hunter2` as `env` or a shell's `set` print it without the `=`. Case heeded: the
    // upper case is what marks it a variable and not a sentence (`check the password first` is left).
    name: 'built-in:password',
    pattern: new RegExp(
      String.raw`(?<![a-z]|(?<!\\u002)[0-9])${upperCase(SECRET_KEY)}[ \t]{1,16}(?![:=])${eitherCase(NOT_ALREADY_REDACTED)}${VALUE}${LINE_END_AHEAD}`,
      'g',
    ),
    groups: VALUE_GROUPS,
  },
  {
    // A .netrc on one line: `machine h login u password p` (the login before it tells it from prose about a machine).
    name: 'built-in:password',
    pattern: new RegExp(
      String.raw`\b(?:machine|default)\b[^\n]{0,256}?\blogin[ \t]{1,16}[^\s]{1,256}[ \t]{1,16}password[ \t]{1,16}${NOT_ALREADY_REDACTED}${VALUE}`,
      'gi',
    ),
    groups: VALUE_GROUPS,
  },
  {
    // `Authorization: Bearer x`, `Basic x`: the credential after the scheme.
    name: 'built-in:token',
    pattern: new RegExp(String.raw`${WORD_START}(?:Bearer|Basic)\s+([A-Za-z0-9._~+/-]{8,4096}=*)`, 'g'),
    groups: [1],
  },
  {
    // An Authorization header of any scheme (`Token x`, `Negotiate x`, none), also quoted inside a JSON string: the credential.
    name: 'built-in:token',
    pattern: new RegExp(
      String.raw`${WORD_START}(?:proxy-)?authori[sz]ation${ANY_QUOTE}?[ \t]{0,16}[:=][ \t]{0,16}${ANY_QUOTE}?(?:[A-Za-z][A-Za-z0-9-]{0,31}[ \t]{1,16})?${NOT_ALREADY_REDACTED}([A-Za-z0-9._~+/:-]{6,4096}=*)`,
      'gi',
    ),
    groups: [1],
  },
  {
    // JSON Web Tokens: three base64url parts, the first a JSON object.
    name: 'built-in:token',
    pattern: new RegExp(String.raw`${WORD_START}eyJ[A-Za-z0-9_-]{4,4096}\.[A-Za-z0-9_-]{4,4096}\.[A-Za-z0-9_-]{0,4096}`, 'g'),
  },
  {
    // Cookies (a header sends many, each a credential): the header's whole value, or the quoted one.
    name: 'built-in:token',
    pattern: new RegExp(
      String.raw`${WORD_START}(?:set-)?cookies?${ANY_QUOTE}?[ \t]{0,16}[:=][ \t]{0,16}(?:${QUOTED_VALUE}|([^\n]{1,4096}))`,
      'gi',
    ),
    groups: VALUE_GROUPS,
  },
  {
    // user:password@ in a URL; the user may be empty (redis://:password@), the password may hold / or @ (up to the last @).
    name: 'built-in:password',
    pattern: /[a-z][a-z0-9+.-]{0,31}:\/\/[^\s:/@"'<>]{0,256}:([^\s"'<>]{1,1024})@/gi,
    groups: [1],
  },
  {
    // Cloud access key ids (AWS's shape), often logged beside their secret.
    name: 'built-in:token',
    pattern: new RegExp(String.raw`${WORD_START}(?:AKIA|ASIA)[0-9A-Z]{16}\b`, 'g'),
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
