import { describe, expect, it } from 'vitest';
import { Redactor, redactionPlan } from '../../../electron/backend/bundles/support-bundles/redact';

function redactor(): Redactor {
  return new Redactor(redactionPlan({ addresses: false, hostNames: null, vaultSecrets: [], rules: [] }));
}

/** A value quoted inside JSON `depth` times: depth 1 is an event's message holding a JSON document. */
function quoted(value: unknown, depth: number): string {
  let text = JSON.stringify(value);
  for (let i = 0; i < depth; i++) text = JSON.stringify({ message: text });
  return text;
}

/** Peel `depth` levels of { message: "<json>" } off again. */
function unquoted(text: string, depth: number): unknown {
  let value: unknown = JSON.parse(text);
  for (let i = 0; i < depth; i++) value = JSON.parse((value as { message: string }).message);
  return value;
}

describe('secrets in JSON quoted inside JSON (an event whose message is a JSON document)', () => {
  const inner = {
    password: 'hunter2-depth-0101',
    token: 'tok-depth-0102',
    headers: { Authorization: 'Bearer abcdefgh.depth-0103' },
    cookie: 'sid=cookie-depth-0104',
    args: ['--db-password', 'flag-depth-0105'],
    note: 'a "quoted" word',
  };
  const secrets = ['hunter2-depth-0101', 'tok-depth-0102', 'abcdefgh.depth-0103', 'cookie-depth-0104', 'flag-depth-0105'];

  for (const depth of [1, 2, 3, 4]) {
    it(`replaces each secret at depth ${depth}, keeps every level JSON and lists each redaction`, () => {
      const text = quoted(inner, depth);
      const out = redactor().redact('events.json', text);
      for (const secret of secrets) expect(out.text).not.toContain(secret);
      // Every level still parses, and what is not secret is kept.
      const back = unquoted(out.text, depth) as typeof inner;
      expect(back.password).toBe('[redacted:password]');
      expect(back.token).toBe('[redacted:password]');
      expect(back.headers.Authorization).toBe('Bearer [redacted:token]');
      expect(back.args[0]).toBe('--db-password');
      expect(back.note).toBe('a "quoted" word');
      const rules = out.redactions.map((r) => r.rule);
      expect(rules.filter((r) => r === 'built-in:password').length).toBeGreaterThanOrEqual(3);
      expect(rules).toContain('built-in:token');
      for (const r of out.redactions) {
        expect(r.file).toBe('events.json');
        expect(r.line).toBe(1);
        for (const secret of secrets) expect(r.masked).not.toContain(secret);
      }
    });
  }

  it('replaces the whole of a secret that holds a quote or a backslash at depth 2', () => {
    const text = quoted({ password: 'ab"cd\\ef-0106', after: 'kept' }, 2);
    const out = redactor().redact('events.json', text);
    expect(out.text).not.toContain('cd');
    expect(out.text).not.toContain('ef-0106');
    expect(unquoted(out.text, 2)).toEqual({ password: '[redacted:password]', after: 'kept' });
  });

  it('keeps a log line (not a .json file) with an escaped document parseable', () => {
    const line = `{"level":30,"msg":${JSON.stringify(JSON.stringify({ password: 'log-depth-0107', user: 'alice' }))}}`;
    const out = redactor().redact('runtime.log', `${line}\nnext line`);
    expect(out.text).not.toContain('log-depth-0107');
    const [first, second] = out.text.split('\n');
    expect(JSON.parse(JSON.parse(first!).msg)).toEqual({ password: '[redacted:password]', user: 'alice' });
    expect(second).toBe('next line');
  });

  it('replaces a YAML line inside a JSON string, and a bare value that ends at an escaped quote keeps the line JSON', () => {
    const yaml = 'db:\n  password: yaml-in-json-0108\n  user: app';
    const text = `${JSON.stringify({ msg: yaml })}\n${JSON.stringify({ msg: JSON.stringify({ note: 'password: bare-0109' }) })}`;
    const out = redactor().redact('runtime.log', text);
    expect(out.text).not.toContain('yaml-in-json-0108');
    expect(out.text).not.toContain('bare-0109');
    const [a, b] = out.text.split('\n');
    expect(JSON.parse(a!).msg).toContain('user: app');
    expect(JSON.parse(JSON.parse(b!).msg)).toEqual({ note: 'password: [redacted:password]' });
  });

  it('leaves an escaped value already redacted, and an escaped true/false/null, as they are', () => {
    const text = quoted({ password: '[redacted]', secret: null, tokenized: true }, 2);
    const out = redactor().redact('events.json', text);
    expect(out.redactions).toEqual([]);
    expect(out.text).toBe(text);
  });
});

describe('other spellings a log line carries a secret in, inside JSON strings', () => {
  const shapes: Array<[string, string, string]> = [
    [
      'an Authorization header of another scheme, quoted in a message',
      JSON.stringify({ msg: JSON.stringify({ Authorization: 'Token auth-0201abc' }) }),
      'auth-0201abc',
    ],
    [
      'an Authorization header with no scheme, in YAML in a message',
      JSON.stringify({ msg: 'headers:\n  authorization: noscheme-0202' }),
      'noscheme-0202',
    ],
    ['a Proxy-Authorization header', 'Proxy-Authorization: Negotiate proxy-0203abc', 'proxy-0203abc'],
    ['an environment line in a quoted list', JSON.stringify({ msg: JSON.stringify({ env: ['DB_PASSWORD=env-0204'] }) }), 'env-0204'],
    ['a single-quoted YAML value quoted twice', JSON.stringify({ msg: JSON.stringify({ msg: "password: 'single-0205'" }) }), 'single-0205'],
  ];
  for (const [what, text, secret] of shapes)
    it(`replaces ${what} and keeps the line JSON where it was`, () => {
      const out = redactor().redact('runtime.log', text);
      expect(out.text).not.toContain(secret);
      expect(out.redactions.length).toBeGreaterThan(0);
      if (text.startsWith('{')) expect(() => JSON.parse(out.text) as unknown).not.toThrow();
    });
});
