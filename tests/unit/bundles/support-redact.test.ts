import { describe, expect, it } from 'vitest';
import { Redactor, redactionPlan } from '../../../electron/backend/bundles/support-bundles/redact';
import { ApiError, type SupportRule } from '../../../electron/contract';

const PEM = [
  '-----BEGIN OPENSSH PRIVATE KEY-----',
  'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
  'QyNTUxOQAAACDSecretKeyMaterialThatMustNeverLeaveTheSiteXXXXXXXXXXXXXXXX',
  '-----END OPENSSH PRIVATE KEY-----',
].join('\n');

function redactor(options: Partial<Parameters<typeof redactionPlan>[0]> = {}): Redactor {
  return new Redactor(redactionPlan({ addresses: false, hostNames: null, vaultSecrets: [], rules: [], ...options }));
}

describe('the built-in redaction rules', () => {
  const planted = {
    yaml: 'db_password: hunter2-correct-horse',
    env: 'SUTAZAI_PASSPHRASE=open-sesame-123456',
    json: '{"level":30,"api_key":"sk-live-abcdef123456","msg":"started"}',
    flag: 'exec core --db-token tok_9f8e7d6c5b4a --port 8080',
    bearer: 'GET /v1 Authorization: Bearer abcdefghijklmnop.qrstuv',
    jwt: 'token eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz in the header',
    url: 'connecting to postgres://sutazai:pg-secret-pw@db:5432/main',
    aws: 'using key AKIAIOSFODNN7EXAMPLE for uploads',
  };
  const secrets = [
    'hunter2-correct-horse',
    'open-sesame-123456',
    'sk-live-abcdef123456',
    'tok_9f8e7d6c5b4a',
    'abcdefghijklmnop.qrstuv',
    'eyJhbGciOiJFZERTQSJ9',
    'pg-secret-pw',
    'AKIAIOSFODNN7EXAMPLE',
    'SecretKeyMaterial',
  ];
  const text = [...Object.values(planted), 'a line with nothing to hide: the refresh took 12 ms', PEM, 'after the key'].join('\n');

  it('replaces every planted secret and lists each with file, line, rule and a masked text', () => {
    const out = redactor().redact('logs/agent-1.log', text);
    for (const secret of secrets) expect(out.text).not.toContain(secret);
    expect(out.redactions.map((r) => [r.line, r.rule])).toEqual([
      [1, 'built-in:password'],
      [2, 'built-in:password'],
      [3, 'built-in:password'],
      [4, 'built-in:password'],
      [5, 'built-in:token'],
      [6, 'built-in:token'],
      [7, 'built-in:password'],
      [8, 'built-in:token'],
      [10, 'built-in:private-key'],
    ]);
    for (const r of out.redactions) {
      expect(r.file).toBe('logs/agent-1.log');
      // At most the first two characters and the length: never the secret.
      expect(r.masked).toMatch(/^.{0,2}•••• \(\d+ characters\)$/);
      for (const secret of secrets) expect(r.masked).not.toContain(secret);
    }
    // What is around the secret stays, so the line still reads.
    expect(out.text).toContain('db_password: [redacted:password]');
    expect(out.text).toContain('postgres://sutazai:[redacted:password]@db:5432/main');
    expect(out.text).toContain('the refresh took 12 ms');
  });

  it('keeps the line numbers of the file: a multi-line key becomes as many lines', () => {
    const out = redactor().redact('f', text);
    expect(out.text.split('\n')).toHaveLength(text.split('\n').length);
    expect(out.text.split('\n').at(-1)).toBe('after the key');
  });

  it("leaves a value already redacted (pino's [redacted]) as it is", () => {
    expect(redactor().redact('f', '{"password":"[redacted]"}').redactions).toEqual([]);
  });

  it("replaces the vault's secrets wherever they appear, with no key name before them", () => {
    const out = redactor({ vaultSecrets: ['S3cret-ssh-pass', 'abc'] }).redact('f', 'login as root with S3cret-ssh-pass ok; abc stays');
    expect(out.text).toBe('login as root with [redacted:vault] ok; abc stays');
    expect(out.redactions.map((r) => r.rule)).toEqual(['built-in:vault']);
  });
});

describe('the optional rules: addresses and host names, replaced consistently', () => {
  it('gives the same address the same stand-in in every file, and leaves times of day alone', () => {
    const r = redactor({ addresses: true });
    const a = r.redact('a', 'from 198.18.0.7 to 10.0.0.1 at 04:12:45, then fe80::1 and 198.18.0.7 again');
    const b = r.redact('b', 'peer 10.0.0.1');
    expect(a.text).toBe('from ip-1 to ip-2 at 04:12:45, then ip-3 and ip-1 again');
    expect(b.text).toBe('peer ip-2');
    expect(a.redactions.every((x) => x.rule === 'addresses')).toBe(true);
  });

  it("replaces the inventory's names as whole words, longer names first", () => {
    const r = redactor({ hostNames: ['b4', 'b4-core', 'web.example'] });
    const out = r.redact('f', 'b4-core talks to b4 (not b44) and web.example');
    expect(out.text).toBe('host-1 talks to host-2 (not b44) and host-3');
    expect(r.standIn('b4')).toBe('host-2');
    expect(r.standIn('unknown')).toBe('unknown');
  });
});

describe("the operator's rules", () => {
  const rule = (r: Partial<SupportRule> & Pick<SupportRule, 'name' | 'pattern'>): SupportRule => ({
    regex: false,
    ignoreCase: false,
    ...r,
  });

  it("replaces plain text wherever it is, and a regular expression's lines whole", () => {
    const r = redactor({
      rules: [
        rule({ name: 'customer', pattern: 'ACME corp', ignoreCase: true }),
        rule({ name: 'serials', pattern: 'SN-[0-9]{6}', regex: true }),
      ],
    });
    const out = r.redact('f', 'owner acme CORP here\nboard SN-123456 ok\nplain line');
    expect(out.text).toBe('owner [redacted:customer] here\n[redacted:serials]\nplain line');
    expect(out.redactions.map((x) => [x.line, x.rule])).toEqual([
      [1, 'customer'],
      [2, 'serials'],
    ]);
  });

  it('refuses a pattern the linear matcher cannot take, naming the rule', () => {
    let caught: unknown;
    try {
      redactor({ rules: [rule({ name: 'bad', pattern: '(a)\\1', regex: true })] });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ApiError);
    expect(caught).toMatchObject({ code: 'SUPPORT_RULE_INVALID' });
    expect((caught as ApiError).message).toContain('"bad"');
  });

  it('stays linear on a pattern that sends a backtracking engine exponential', () => {
    const r = redactor({ rules: [rule({ name: 'evil', pattern: '(a+)+$', regex: true })] });
    const out = r.redact('f', `${'a'.repeat(5000)}!`);
    expect(out.redactions).toEqual([]);
  });
});

describe('secrets in the other shapes a site writes them (review: none may reach the bundle)', () => {
  const shapes: Array<[string, string, string]> = [
    [
      'a password spelled pwd (MySQL, ODBC)',
      'MYSQL_PWD=pwd-value-0001 and Driver={x};Uid=sa;Pwd=odbc-pass-0002;',
      'pwd-value-0001|odbc-pass-0002',
    ],
    ['a bare pass key', 'pass: yaml-pass-0003', 'yaml-pass-0003'],
    [
      'a key that goes on after its secret word',
      'SECRET_KEY=django-secret-0004 {"secretKey": "camel-secret-0005"} SECRET_KEY_BASE=rails-base-0006',
      'django-secret-0004|camel-secret-0005|rails-base-0006',
    ],
    ['a JSON string with an escaped quote', '{"password":"esc\\"aped-0007","next":1}', 'aped-0007'],
    [
      'URL credentials with no user (Redis) or a slash',
      'redis://:redis-pass-0008@cache:6379 amqp://u:sl/ash-0009@mq',
      'redis-pass-0008|ash-0009',
    ],
    [
      'cookies, every one of the header',
      'Cookie: theme=dark; sutazai_session=cookie-val-0010\nSet-Cookie: sid=cookie-val-0011; HttpOnly',
      'cookie-val-0010|cookie-val-0011',
    ],
    [
      'a flag and its value as items of a JSON array, on one line or two',
      '{"args": ["--password", "json-arg-0012"]}\n  "args": [\n    "--db-token",\n    "json-arg-0013"\n  ]',
      'json-arg-0012|json-arg-0013',
    ],
    [
      'a PGP private key block',
      '-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBGPgpSecret0014AAAA\n=abcd\n-----END PGP PRIVATE KEY BLOCK-----',
      'PgpSecret0014',
    ],
    [
      'an SSH2 (RFC 4716) private key',
      '---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nComment: "k"\nP2/56wAAAssh2Secret0015\n---- END SSH2 ENCRYPTED PRIVATE KEY ----',
      'ssh2Secret0015',
    ],
    [
      'a PuTTY private key',
      'PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: k\nPublic-Lines: 1\nAAAAC3NzaC1lZDI1NTE5\nPrivate-Lines: 1\nAAAAIPuttySecret0016\nPrivate-MAC: 0a1b2c3d',
      'PuttySecret0016',
    ],
    [
      "a private key whose BEGIN line was cut off (a log's tail starts inside it)",
      '2026-12-06T05:00:00.000Z out MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjOrphanKey0017\n2026-12-06T05:00:00.000Z out -----END PRIVATE KEY-----\nthe next line',
      'OrphanKey0017',
    ],
    [
      "an event's last lines that start inside a key",
      '[\n  {\n    "kind": "process.exit",\n    "lastLines": [\n      "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjOrphanKey0018",\n      "-----END RSA PRIVATE KEY-----"\n    ]\n  }\n]',
      'OrphanKey0018',
    ],
    [
      'a cut-off key of many log lines, its last line short',
      [
        'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjOrphanKey0024AAAAAAAAAAAAAAAAAAAAA',
        'QyNTUxOQAAACDSecondLine0025BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
        'Xy0026==',
        '-----END PRIVATE KEY-----',
      ]
        .map((line) => `2026-12-06T05:00:00.000Z err ${line}`)
        .join('\n'),
      'OrphanKey0024|SecondLine0025|Xy0026',
    ],
    ['a password that starts with stars', 'password=***stars-0019', 'stars-0019'],
  ];
  for (const [what, text, secrets] of shapes)
    it(`replaces ${what}`, () => {
      const out = redactor().redact('f', text);
      for (const secret of secrets.split('|')) expect(out.text).not.toContain(secret);
      expect(out.redactions.length).toBeGreaterThan(0);
      expect(out.text.split('\n')).toHaveLength(text.split('\n').length);
    });

  it("keeps JSON JSON: a secret key's true, false or null, an object under it and a key that only names a password are left", () => {
    const facts = { sudoPasswordVerified: true, token_count: 5, secret: null, credentials: { password: 'inner-0029' } };
    const out = redactor().redact('facts.json', JSON.stringify(facts, null, 2));
    expect(out.text).not.toContain('inner-0029');
    expect(JSON.parse(out.text)).toEqual({ ...facts, credentials: { password: '[redacted:password]' } });
  });

  it("keeps an event list JSON when its last lines start inside a key: each line's material is replaced in its string", () => {
    const events = [
      {
        kind: 'process.exit',
        lastLines: ['MIIEvQIBADANBgkqhkiG9w0BAQEFAASCOrphan0027', 'Ab0028=', '-----END EC PRIVATE KEY-----', 'exit 1'],
      },
    ];
    const out = redactor().redact('events.json', JSON.stringify(events, null, 2));
    expect(out.text).not.toContain('Orphan0027');
    expect(out.text).not.toContain('Ab0028');
    expect((JSON.parse(out.text) as typeof events)[0]!.lastLines).toEqual([
      '[redacted:private-key]',
      '[redacted:private-key]',
      '[redacted:private-key]',
      'exit 1',
    ]);
  });

  it("keeps an event list JSON when a whole key runs over its items (BEGIN to END): only the strings' insides are replaced", () => {
    const events = [
      {
        kind: 'process.exit',
        message: 'exited with "1"',
        lastLines: [
          'loading key',
          '-----BEGIN PRIVATE KEY-----',
          'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCWholeKey0031',
          'Wm9vbGVLZXlNYXRlcmlhbDAwMzI=',
          '-----END PRIVATE KEY-----',
          'exit "1" \\ done',
        ],
      },
    ];
    const text = JSON.stringify(events, null, 2);
    const out = redactor().redact('hosts/h/events.json', text);
    expect(out.text).not.toContain('WholeKey0031');
    expect(out.text).not.toContain('Wm9vbGVLZXlNYXRlcmlhbDAwMzI');
    const parsed = JSON.parse(out.text) as typeof events;
    expect(parsed[0]!.lastLines).toEqual([
      'loading key',
      '[redacted:private-key]',
      '[redacted:private-key]',
      '[redacted:private-key]',
      '[redacted:private-key]',
      'exit "1" \\ done',
    ]);
    expect(parsed[0]!.message).toBe('exited with "1"');
    // Every line keeps its place, and the one redaction is listed at the key's BEGIN line.
    expect(out.text.split('\n')).toHaveLength(text.split('\n').length);
    expect(out.redactions.map((r) => [r.rule, r.line])).toEqual([
      ['built-in:private-key', text.split('\n').findIndex((l) => l.includes('BEGIN')) + 1],
    ]);
  });

  it("redacts plain text under a .json name as text (the manifest's gaps): a host's name is replaced", () => {
    const out = redactor({ hostNames: ['gap-host-7'] }).redact('manifest.json', 'gap-host-7: never probed, so no facts');
    expect(out.text).toBe('host-1: never probed, so no facts');
  });

  it('keeps JSON JSON when a secret ends beside an escaped quote in its string', () => {
    const lines = { lastLines: ['db_password=Quoted"Secret-0033\\ next', 'also password="Tail-Secret-0034\\"', 'next'] };
    const out = redactor().redact('events.json', JSON.stringify(lines, null, 2));
    expect(out.text).not.toContain('Secret-0033');
    expect(out.text).not.toContain('Tail-Secret-0034');
    expect((JSON.parse(out.text) as typeof lines).lastLines[2]).toBe('next');
  });

  it('keeps what is around a cut-off key: the lines before it that are not key material, and those after', () => {
    const text = 'started fine\n2026-12-06T05:00:00.000Z out MIIEvQIBADANBgkqhkiG9w0BAQEFAASCOrphan0020\n-----END PRIVATE KEY-----\nafter';
    const out = redactor().redact('f', text);
    expect(out.text).not.toContain('Orphan0020');
    expect(out.text.split('\n')[0]).toBe('started fine');
    expect(out.text.split('\n')[3]).toBe('after');
  });

  it('replaces a vault secret also as JSON and a URL write it (escaped quote and backslash, percent-encoded)', () => {
    const secret = 'quo"te\\p@ss/0021';
    const text = `${JSON.stringify({ lastLines: [`login ${secret}`] })}\nGET /sign-in?u=root&p=${encodeURIComponent(secret)} 200`;
    const out = redactor({ vaultSecrets: [secret] }).redact('f', text);
    expect(out.text).not.toContain('ss/0021');
    expect(out.text).not.toContain('ss%2F0021');
    expect(out.redactions.filter((r) => r.rule === 'built-in:vault')).toHaveLength(2);
  });

  it('replaces the whole of a secret that starts inside an earlier replacement (never only up to where the first ended)', () => {
    const out = redactor({
      vaultSecrets: ['MEsecret-0022'],
      rules: [{ name: 'customer', pattern: 'ACME', regex: false, ignoreCase: false }],
    }).redact('f', 'owner xxACMEsecret-0022 yy');
    expect(out.text).not.toContain('secret-0022');
    expect(out.text).toContain(' yy');
  });

  it('replaces plain text ignoring case where lower-casing changes the length of the text before it (İ)', () => {
    const out = redactor({ rules: [{ name: 'customer', pattern: 'ACME-0023', regex: false, ignoreCase: true }] }).redact(
      'f',
      'İİİİ owner acme-0023 here',
    );
    expect(out.text.toLowerCase()).not.toContain('acme-0023');
    expect(out.text).toBe('İİİİ owner [redacted:customer] here');
  });
});

describe('stand-ins in names (paths, the manifest) match the text', () => {
  it('an address replaced in the text is the same stand-in as a path part or a target name', () => {
    const r = redactor({ addresses: true });
    expect(r.redact('a', 'peer 10.0.0.5').text).toBe('peer ip-1');
    expect(r.standIn('10.0.0.5')).toBe('ip-1');
    expect(r.standIn('10.0.0.6')).toBe('ip-2');
  });

  it('a host named by its address gets one stand-in, in the text and as a name, with both options on', () => {
    const r = redactor({ addresses: true, hostNames: ['10.0.0.5', 'db-1'] });
    const name = r.standIn('10.0.0.5');
    expect(r.redact('a', 'reached 10.0.0.5 and db-1').text).toBe(`reached ${name} and ${r.standIn('db-1')}`);
    expect(name).not.toContain('10.0.0.5');
  });

  it('a host name in another case is the same host (DNS names ignore case)', () => {
    const r = redactor({ hostNames: ['Web01.example'] });
    expect(r.redact('a', 'Web01.example and web01.EXAMPLE').text).toBe('host-1 and host-1');
  });
});
