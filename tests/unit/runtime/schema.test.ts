import { describe, expect, expectTypeOf, it } from 'vitest';
import * as s from '../../../agents-runtime/src/schema/schema';

/** The issues of one value, as [path, code, message] rows. */
function issuesOf(schema: s.Schema<unknown>, value: unknown): Array<[string, string, string]> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => [issue.path.join('.'), issue.code, issue.message]);
}

describe('schema: the runtime’s document checks (zod 4’s issues, word for word)', () => {
  it('names the type it got, NaN and infinities included', () => {
    const n = s.number();
    expect(issuesOf(n, 'x')).toEqual([['', 'invalid_type', 'Invalid input: expected number, received string']]);
    expect(issuesOf(n, Number.NaN)).toEqual([['', 'invalid_type', 'Invalid input: expected number, received NaN']]);
    expect(issuesOf(n, Number.POSITIVE_INFINITY)).toEqual([['', 'invalid_type', 'Invalid input: expected number, received Infinity']]);
    expect(issuesOf(n, Number.NEGATIVE_INFINITY)).toEqual([['', 'invalid_type', 'Invalid input: expected number, received -Infinity']]);
    expect(issuesOf(s.string(), null)).toEqual([['', 'invalid_type', 'Invalid input: expected string, received null']]);
    expect(issuesOf(s.string(), [1])).toEqual([['', 'invalid_type', 'Invalid input: expected string, received array']]);
    expect(issuesOf(s.boolean(), {})).toEqual([['', 'invalid_type', 'Invalid input: expected boolean, received object']]);
    expect(issuesOf(s.record(s.string(), s.string()), 'x')).toEqual([
      ['', 'invalid_type', 'Invalid input: expected record, received string'],
    ]);
  });

  it('stops the checks after a wrong type, except length checks on a value that has a length', () => {
    const command = s.string().min(1, 'must not be empty').regex(/^a/);
    expect(issuesOf(command, 5)).toEqual([['', 'invalid_type', 'Invalid input: expected string, received number']]);
    expect(issuesOf(command, [])).toEqual([
      ['', 'invalid_type', 'Invalid input: expected string, received array'],
      ['', 'too_small', 'must not be empty'],
    ]);
    expect(issuesOf(s.array(s.string()).max(2), 'abc')).toEqual([
      ['', 'invalid_type', 'Invalid input: expected array, received string'],
      ['', 'too_big', 'Too big: expected string to have <=2 characters'],
    ]);
    expect(issuesOf(s.string().max(2), { length: 'abc' })).toEqual([
      ['', 'invalid_type', 'Invalid input: expected string, received object'],
      ['', 'too_big', 'Too big: expected unknown to be <=2'],
    ]);
    // A failed length check lets the next check run.
    expect(issuesOf(command, '')).toEqual([
      ['', 'too_small', 'must not be empty'],
      ['', 'invalid_format', 'Invalid string: must match pattern /^a/'],
    ]);
  });

  it('stops every check after a fraction where a whole number belongs; an unsafe integer lets them run', () => {
    const ms = s.number().int().nonnegative().max(100);
    expect(issuesOf(ms, -0.5)).toEqual([['', 'invalid_type', 'Invalid input: expected int, received number']]);
    expect(issuesOf(ms, -1)).toEqual([['', 'too_small', 'Too small: expected number to be >=0']]);
    expect(issuesOf(ms, 1e20)).toEqual([
      ['', 'too_big', 'Too big: expected int to be <=9007199254740991'],
      ['', 'too_big', 'Too big: expected number to be <=100'],
    ]);
    expect(issuesOf(s.number().int(), -1e20)).toEqual([['', 'too_small', 'Too small: expected int to be >=-9007199254740991']]);
    expect(issuesOf(s.number().positive(), 0)).toEqual([['', 'too_small', 'Too small: expected number to be >0']]);
  });

  it('counts characters as code points: an emoji is one', () => {
    expect(issuesOf(s.string().max(3), '😀😀😀')).toEqual([]);
    expect(issuesOf(s.string().max(3), '😀😀😀😀')).toEqual([['', 'too_big', 'Too big: expected string to have <=3 characters']]);
    expect(issuesOf(s.string().min(2), '😀')).toEqual([['', 'too_small', 'Too small: expected string to have >=2 characters']]);
  });

  it('refuses a list over its maximum before checking any item', () => {
    const list = s.array(s.string()).min(1, 'expected at least one item').max(2);
    expect(issuesOf(list, [1, 2, 3])).toEqual([['', 'too_big', 'Too big: expected array to have <=2 items']]);
    expect(issuesOf(list, [1, 'a'])).toEqual([['0', 'invalid_type', 'Invalid input: expected string, received number']]);
    expect(issuesOf(list, [])).toEqual([['', 'too_small', 'expected at least one item']]);
  });

  it('reports an object’s keys in schema order, then its unknown keys, then its own checks if nothing stopped them', () => {
    const rule = s
      .object({ name: s.string(), hours: s.string().max(5).optional(), zone: s.string().optional(), on: s.boolean().default(true) })
      .refine((value, report) => {
        if (value.hours !== undefined && value.zone === undefined) report(['zone'], 'is required with hours');
      });
    expect(issuesOf(rule, { zone: 1, bogus: 1, name: 2, extra: 3 })).toEqual([
      ['name', 'invalid_type', 'Invalid input: expected string, received number'],
      ['zone', 'invalid_type', 'Invalid input: expected string, received number'],
      ['', 'unrecognized_keys', 'Unrecognized keys: "bogus", "extra"'],
    ]);
    // Issues that do not stop (a length, an unknown key) let the object's check run.
    expect(issuesOf(rule, { name: 'a', hours: '08:00-18:00', x: 1 })).toEqual([
      ['hours', 'too_big', 'Too big: expected string to have <=5 characters'],
      ['', 'unrecognized_keys', 'Unrecognized key: "x"'],
      ['zone', 'custom', 'is required with hours'],
    ]);
    // An issue that stops (a wrong type) leaves the object's check out.
    expect(issuesOf(rule, { name: 5, hours: '08:00' })).toEqual([
      ['name', 'invalid_type', 'Invalid input: expected string, received number'],
    ]);
    expect(issuesOf(rule, {})).toEqual([['name', 'invalid_type', 'Invalid input: expected string, received undefined']]);
    expect(rule.safeParse({ name: 'a' })).toEqual({ success: true, data: { name: 'a', on: true } });
    expect(issuesOf(rule, [])).toEqual([['', 'invalid_type', 'Invalid input: expected object, received array']]);
  });

  it('words unions, tags, records and fixed values as zod did', () => {
    const tagged = s.taggedUnion('type', [s.object({ type: s.literal('tcp'), port: s.number() }), s.object({ type: s.literal('exec') })]);
    expect(issuesOf(tagged, { type: 'udp' })).toEqual([['type', 'invalid_union', "Invalid discriminator value. Expected 'tcp' | 'exec'"]]);
    expect(issuesOf(tagged, { type: 'tcp' })).toEqual([['port', 'invalid_type', 'Invalid input: expected number, received undefined']]);
    const env = s.record(s.string().regex(/^[A-Z]+$/, 'not a name'), s.union([s.string(), s.number()]).transform(String));
    expect(env.safeParse({ PORT: 8080 })).toEqual({ success: true, data: { PORT: '8080' } });
    expect(issuesOf(env, { x: 1, Y: null })).toEqual([
      ['x', 'invalid_key', 'Invalid key in record'],
      ['Y', 'invalid_union', 'Invalid input'],
    ]);
    expect(s.union([s.string().transform(() => 'first'), s.string()]).safeParse('x')).toEqual({ success: true, data: 'first' });
    expect(issuesOf(s.oneOf(['always', 'never']), 'x')).toEqual([
      ['', 'invalid_value', 'Invalid option: expected one of "always"|"never"'],
    ]);
    expect(issuesOf(s.oneOf(['only']), 'x')).toEqual([['', 'invalid_value', 'Invalid input: expected "only"']]);
    expect(issuesOf(s.literal(1, 'must be 1'), 2)).toEqual([['', 'invalid_value', 'must be 1']]);
    expect(issuesOf(s.string().startsWith('/'), 'x')).toEqual([['', 'invalid_format', 'Invalid string: must start with "/"']]);
    expect(
      issuesOf(
        s.string().refine((v) => v === 'ok'),
        'x',
      ),
    ).toEqual([['', 'custom', 'Invalid input']]);
    expect(s.object({ m: s.object({}).nullable().optional() }).safeParse({ m: null })).toEqual({ success: true, data: { m: null } });
  });

  it('derives the parsed type from the schema', () => {
    const spec = s.object({ name: s.string(), replicas: s.number().optional(), on: s.boolean().default(true), kind: s.oneOf(['a', 'b']) });
    expectTypeOf<s.Infer<typeof spec>>().toEqualTypeOf<{ name: string; kind: 'a' | 'b'; on: boolean; replicas?: number | undefined }>();
    expect(spec.safeParse({ name: 'a', kind: 'a' })).toEqual({ success: true, data: { name: 'a', kind: 'a', on: true } });
    // A default is a fresh copy: no two parses share one list.
    const labels = s.object({ labels: s.array(s.string()).default([]) });
    const first = labels.safeParse({});
    const second = labels.safeParse({});
    if (!first.success || !second.success) throw new Error('refused');
    expect(first.data.labels).not.toBe(second.data.labels);
  });
});
