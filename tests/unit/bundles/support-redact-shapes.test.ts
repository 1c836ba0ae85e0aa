import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
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

function unquoted(text: string, depth: number): unknown {
  let value: unknown = JSON.parse(text);
  for (let i = 0; i < depth; i++) value = JSON.parse((value as { message: string }).message);
  return value;
}

/** A document as .NET's and PHP's (JSON_HEX_QUOT) encoders write it: quotes by their code. */
function quotesByCode(value: unknown): string {
  return JSON.stringify(value).replace(/"/g, '\\u0022');
}

const STAMP = '2026-12-06T05:00:00.000Z out ';

describe('YAML block scalars under a secret key: the indented lines are the value', () => {
  const yaml = [
    'db:',
    '  password: |',
    '    block-0301',
    '',
    '    block-0302',
    '  user: app',
    '  api_key: >- # folded',
    '    folded-0303 folded-0304',
    'services:',
    '  - name: web',
    '    token: |2',
    '      item-0305',
    '    port: 80',
    'notes: |',
    '  kept-0306',
  ].join('\n');
  const secrets = ['block-0301', 'block-0302', 'folded-0303', 'folded-0304', 'item-0305'];

  it('replaces each line of the value, keeps the next key, the lines and the YAML', () => {
    const out = redactor().redact('config.yaml', yaml);
    for (const secret of secrets) expect(out.text).not.toContain(secret);
    expect(out.text.split('\n')).toHaveLength(yaml.split('\n').length);
    expect(parseYaml(out.text)).toEqual({
      db: { password: '[redacted:password]\n\n[redacted:password]\n', user: 'app', api_key: '[redacted:password]' },
      services: [{ name: 'web', token: '[redacted:password]\n', port: 80 }],
      notes: 'kept-0306\n',
    });
    // Each line listed where it stands.
    expect(out.redactions.map((r) => [r.line, r.rule])).toEqual([
      [3, 'built-in:password'],
      [5, 'built-in:password'],
      [8, 'built-in:password'],
      [12, 'built-in:password'],
    ]);
  });

  it("finds the block in an instance's log, each line after the runtime's stamp", () => {
    const log = ['config:', '  secret: |', '    stamped-0307', '    stamped-0308', '  level: info'].map((l) => STAMP + l).join('\n');
    const out = redactor().redact('hosts/h/runtime/logs/web-0.log', log);
    expect(out.text).not.toContain('stamped-0307');
    expect(out.text).not.toContain('stamped-0308');
    expect(out.text.split('\n')[4]).toBe(`${STAMP}  level: info`);
    expect(out.text.split('\n')[2]).toBe(`${STAMP}    [redacted:password]`);
  });

  for (const depth of [1, 2, 3])
    it(`finds the block inside a JSON string quoted ${depth} time(s), in a log line and in a .json file, and keeps them JSON`, () => {
      const doc = 'db:\n  password: |\n    nested-0309\n    nested-0310\n  user: app\n';
      let line = doc;
      for (let i = 0; i < depth; i++) line = JSON.stringify({ message: line });
      const pretty = JSON.stringify({ events: [{ lastLines: [line] }] }, null, 2);
      for (const [path, text] of [
        ['runtime.log', `${line}\nnext line`],
        ['events.json', pretty],
      ] as const) {
        const out = redactor().redact(path, text);
        expect(out.text).not.toContain('nested-0309');
        expect(out.text).not.toContain('nested-0310');
        const first =
          path === 'runtime.log'
            ? out.text.split('\n')[0]!
            : (JSON.parse(out.text) as { events: Array<{ lastLines: string[] }> }).events[0]!.lastLines[0]!;
        let inner = first;
        for (let i = 0; i < depth; i++) inner = (JSON.parse(inner) as { message: string }).message;
        expect(parseYaml(inner)).toEqual({ db: { password: '[redacted:password]\n[redacted:password]\n', user: 'app' } });
      }
    });

  it('leaves a block under a key that names no secret, or that only mentions one', () => {
    const text = 'certificate_note: |\n  kept-0311\npasswords_rotated: >\n  kept-0312\nsudoPasswordVerified: |\n  kept-0313';
    const out = redactor().redact('f.yaml', text);
    expect(out.text).toBe(text);
  });
});

describe('a secret key and its value with only spaces between', () => {
  const shapes: Array<[string, string, string]> = [
    ['an upper-case variable as env or set prints it', 'PASSWORD hunter2-0401\nDB_PASSWORD   tab-0402', 'hunter2-0401|tab-0402'],
    ['an upper-case variable after the runtime stamp', `${STAMP}SUTAZAI_PASSPHRASE stamped-0403`, 'stamped-0403'],
    ['a .netrc over several lines', 'machine example.com\n  login alice\n  password netrc-0404', 'netrc-0404'],
    ['a .netrc on one line', 'machine example.com login alice password netrc-0405', 'netrc-0405'],
    ['Redis directives', 'requirepass redis-0406\nmasterauth redis-0407', 'redis-0406|redis-0407'],
    ['a quoted value', 'PASSWORD "quoted 0408"', 'quoted 0408'],
    ['a line of a config file inside a JSON string', JSON.stringify({ msg: 'bind 0.0.0.0\nrequirepass injson-0409\n' }), 'injson-0409'],
    [
      'the first line of a config file quoted in a JSON string',
      JSON.stringify({ msg: 'requirepass first-0410\nport 6379\n' }),
      'first-0410',
    ],
  ];
  for (const [what, text, secrets] of shapes)
    it(`replaces ${what}`, () => {
      const out = redactor().redact('f', text);
      for (const secret of secrets.split('|')) expect(out.text).not.toContain(secret);
      expect(out.redactions.length).toBe(secrets.split('|').length);
      expect(out.text.split('\n')).toHaveLength(text.split('\n').length);
      if (text.startsWith('{')) expect(() => JSON.parse(out.text) as unknown).not.toThrow();
    });

  it('leaves prose: a key followed by more than one word, a lower-case key inside a sentence, a machine with no login', () => {
    const text = [
      `${STAMP}password reset for alice`,
      'check the password first',
      'the token expired at noon',
      'TOKEN_COUNT 5',
      'the machine asked for a password twice',
      '{"msg":"password incorrect"}',
    ].join('\n');
    const out = redactor().redact('app.log', text);
    expect(out.text).toBe(text);
    expect(out.redactions).toEqual([]);
  });
});

describe('JSON quoted inside JSON deeper than five levels', () => {
  for (const depth of [6, 7, 8])
    it(`replaces the secret at depth ${depth} and keeps every level JSON`, () => {
      const text = quoted({ password: `deep-05${depth}`, headers: { Authorization: `Token auth-05${depth}abc` }, note: 'kept' }, depth);
      const out = redactor().redact('events.json', text);
      expect(out.text).not.toContain(`deep-05${depth}`);
      expect(out.text).not.toContain(`auth-05${depth}abc`);
      expect(unquoted(out.text, depth)).toEqual({
        password: '[redacted:password]',
        headers: { Authorization: 'Token [redacted:token]' },
        note: 'kept',
      });
    });
});

describe('quotes written by their code (\\u0022), as .NET and PHP encoders write them', () => {
  it('replaces a secret in a document quoted inside a log line and keeps every level JSON', () => {
    const inner = { password: 'uni-0601', cookie: 'sid=uni-0602', user: 'alice', args: ['--token', 'uni-0603'] };
    const line = `{"level":30,"msg":"${quotesByCode(inner)}"}`;
    const out = redactor().redact('runtime.log', line);
    for (const secret of ['uni-0601', 'uni-0602', 'uni-0603']) expect(out.text).not.toContain(secret);
    expect(JSON.parse((JSON.parse(out.text) as { msg: string }).msg)).toEqual({
      password: '[redacted:password]',
      cookie: '[redacted:token]',
      user: 'alice',
      args: ['--token', '[redacted:password]'],
    });
  });

  it('replaces a bare value that ends at a quote written by its code, and one quoted twice', () => {
    const bare = `{"msg":"${quotesByCode({ note: 'password: bare-0604' })}"}`;
    const twice = JSON.stringify({ message: `{"msg":"${quotesByCode({ secret: 'twice-0605' })}"}` });
    for (const [text, secret] of [
      [bare, 'bare-0604'],
      [twice, 'twice-0605'],
    ] as const) {
      const out = redactor().redact('runtime.log', text);
      expect(out.text).not.toContain(secret);
      expect(() => JSON.parse(out.text) as unknown).not.toThrow();
    }
    const out = redactor().redact('runtime.log', bare);
    expect(JSON.parse((JSON.parse(out.text) as { msg: string }).msg)).toEqual({ note: 'password: [redacted:password]' });
  });
});
