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
