/**
 * The runtime's checking of the documents it reads (manifest, runtime config, access
 * policy): a few small schema builders whose output type is derived from the schema itself
 * (`Infer<typeof schema>`), so a type and its checks cannot drift apart.
 *
 * It replaced zod inside the runtime (issue 13: zod was a third of the daemon's bundle, all
 * of it held in memory as source and code). Operators, scripts and tests saw zod 4's issues
 * before, so the issues here keep zod 4's codes, English messages, paths and order, and how
 * many of them one value raises (a manifest error says "(and N more)"):
 *   - a value of the wrong type raises one `invalid_type` and stops the checks after it,
 *     except the length checks (`min`, `max` of a string or list), which still run on
 *     anything that has a length;
 *   - a failed `int()` stops every check after it; other failed checks let the next run;
 *   - an object reports its keys in the order the schema lists them, then its unknown keys
 *     as one `unrecognized_keys`, then the checks of the object as a whole (`refine`),
 *     which run only if nothing before them stopped;
 *   - a list longer than its `max` is refused before any of its items is checked.
 * tests/unit/runtime/schema.test.ts pins each of those.
 */

export type PathSegment = string | number;

interface IssueBase {
  readonly path: PathSegment[];
  readonly message: string;
  /** true: the checks after the one that raised this still run (zod's `continue`). */
  readonly continue?: boolean;
}

export type Issue =
  | (IssueBase & { readonly code: 'invalid_type'; readonly expected: string })
  | (IssueBase & { readonly code: 'unrecognized_keys'; readonly keys: string[] })
  | (IssueBase & {
      readonly code: 'invalid_value' | 'too_small' | 'too_big' | 'invalid_format' | 'invalid_key' | 'invalid_union' | 'custom';
    });

export type SafeParse<T> = { success: true; data: T } | { success: false; error: { issues: Issue[] } };

type Path = readonly PathSegment[];

/** How an object treats its key being absent: an error, nothing, or a value in its place. */
type Presence = 'required' | 'optional' | 'defaulted';

export abstract class Schema<Out> {
  /** The type this schema produces; type-level only (Infer). */
  declare readonly output: Out;
  readonly presence: Presence = 'required';

  /** Checks `value` at `path`, appending what is wrong to `issues`; returns the parsed value. */
  abstract run(value: unknown, path: Path, issues: Issue[]): unknown;

  safeParse(value: unknown): SafeParse<Out> {
    const issues: Issue[] = [];
    const data = this.run(value, [], issues) as Out;
    return issues.length === 0 ? { success: true, data } : { success: false, error: { issues } };
  }

  optional(): OptionalSchema<Out> {
    return new OptionalSchema(this);
  }

  nullable(): Schema<Out | null> {
    return new WrapperSchema<Out | null>((value, path, issues) => (value === null ? null : this.run(value, path, issues)));
  }

  /** `fallback` when the key is absent (a list is copied, so no two parses share it). */
  default(fallback: Out): DefaultSchema<Out> {
    return new DefaultSchema(this, fallback);
  }

  /** Maps a valid value; an invalid one is left as it is, with its issues. */
  transform<T>(map: (value: Out) => T): Schema<T> {
    return new WrapperSchema<T>((value, path, issues) => {
      const start = issues.length;
      const out = this.run(value, path, issues);
      // zod's pipe: an unknown key is no reason not to map; anything else is.
      for (let i = start; i < issues.length; i += 1) if (issues[i]!.code !== 'unrecognized_keys') return out;
      return map(out as Out);
    });
  }
}

export type Infer<S extends Schema<unknown>> = S['output'];

class WrapperSchema<Out> extends Schema<Out> {
  constructor(private readonly runner: (value: unknown, path: Path, issues: Issue[]) => unknown) {
    super();
  }
  run(value: unknown, path: Path, issues: Issue[]): unknown {
    return this.runner(value, path, issues);
  }
}

export class OptionalSchema<Out> extends Schema<Out | undefined> {
  override readonly presence = 'optional' as const;
  constructor(private readonly inner: Schema<Out>) {
    super();
  }
  run(value: unknown, path: Path, issues: Issue[]): unknown {
    return value === undefined ? undefined : this.inner.run(value, path, issues);
  }
}

export class DefaultSchema<Out> extends Schema<Out> {
  override readonly presence = 'defaulted' as const;
  constructor(
    private readonly inner: Schema<Out>,
    private readonly fallback: Out,
  ) {
    super();
  }
  run(value: unknown, path: Path, issues: Issue[]): unknown {
    const out = value === undefined ? undefined : this.inner.run(value, path, issues);
    if (out !== undefined) return out;
    return Array.isArray(this.fallback) ? [...(this.fallback as unknown[])] : this.fallback;
  }
}

// ---- messages (zod 4's English wording) -------------------------------------------------

/** The type name zod's messages use for a value: `string`, `array`, `null`, `NaN`, `Infinity`... */
function typeName(value: unknown): string {
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : Number.isFinite(value) ? 'number' : String(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') {
    const constructor = (value as { constructor?: { name?: string } }).constructor;
    if (Object.getPrototypeOf(value) !== Object.prototype && 'constructor' in value && constructor) return String(constructor.name);
  }
  return typeof value;
}

function quoted(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : `${String(value)}`;
}

const UNITS: Readonly<Record<string, string>> = { string: 'characters', array: 'items' };

function bound(kind: 'small' | 'big', origin: string, limit: number, inclusive: boolean): string {
  const relation = kind === 'small' ? (inclusive ? '>=' : '>') : inclusive ? '<=' : '<';
  const head = kind === 'small' ? 'Too small' : 'Too big';
  const unit = UNITS[origin];
  return unit === undefined
    ? `${head}: expected ${origin} to be ${relation}${limit}`
    : `${head}: expected ${origin} to have ${relation}${limit} ${unit}`;
}

function invalidType(path: Path, expected: string, value: unknown): Issue {
  return { code: 'invalid_type', expected, path: [...path], message: `Invalid input: expected ${expected}, received ${typeName(value)}` };
}

// ---- checked values: strings, numbers, lists ----------------------------------------------

interface Check {
  /**
   * A length check runs on anything with a `length`, even when the type was wrong (a list
   * given where text belongs still reports its length).
   */
  readonly length?: { max?: number };
  test(value: unknown, path: Path, issues: Issue[]): void;
}

/** Whether any issue from `start` on stops the checks after it. */
function stopsChecks(issues: Issue[], start: number): boolean {
  for (let i = start; i < issues.length; i += 1) if (issues[i]!.continue !== true) return true;
  return false;
}

function runChecks(checks: readonly Check[], value: unknown, path: Path, issues: Issue[], start: number): void {
  let stopped = stopsChecks(issues, start);
  for (const check of checks) {
    if (check.length !== undefined) {
      if (value === null || value === undefined || (value as { length?: unknown }).length === undefined) continue;
    } else if (stopped) continue;
    const before = issues.length;
    check.test(value, path, issues);
    if (!stopped && issues.length > before) stopped = stopsChecks(issues, before);
  }
}

function lengthOrigin(value: unknown): string {
  return Array.isArray(value) ? 'array' : typeof value === 'string' ? 'string' : 'unknown';
}

/** Characters as people count them: a surrogate pair (an emoji) is one. */
function codePoints(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length - 1; i += 1) {
    if ((text.charCodeAt(i) & 0xfc00) === 0xd800 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      count -= 1;
      i += 1;
    }
  }
  return count;
}

function minLength(minimum: number, message?: string): Check {
  return {
    length: {},
    test(value, path, issues) {
      const units = (value as { length: unknown }).length;
      const length = typeof value === 'string' && (units as number) >= minimum ? codePoints(value) : units;
      if ((length as number) >= minimum) return;
      const origin = lengthOrigin(value);
      issues.push({ code: 'too_small', path: [...path], message: message ?? bound('small', origin, minimum, true), continue: true });
    },
  };
}

function maxLength(maximum: number, message?: string): Check {
  return {
    length: { max: maximum },
    test(value, path, issues) {
      const units = (value as { length: unknown }).length;
      const length = typeof value === 'string' && (units as number) > maximum ? codePoints(value) : units;
      if ((length as number) <= maximum) return;
      const origin = lengthOrigin(value);
      issues.push({ code: 'too_big', path: [...path], message: message ?? bound('big', origin, maximum, true), continue: true });
    },
  };
}

function refinement<T>(accept: (value: T) => boolean, message = 'Invalid input'): Check {
  return {
    test(value, path, issues) {
      if (!accept(value as T)) issues.push({ code: 'custom', path: [...path], message, continue: true });
    },
  };
}

abstract class CheckedSchema<Out, Self> extends Schema<Out> {
  constructor(protected readonly checks: readonly Check[]) {
    super();
  }
  protected abstract with(checks: readonly Check[]): Self;
  /** Checks the type; pushes one issue when it is wrong, and returns the parsed value. */
  protected abstract parseType(value: unknown, path: Path, issues: Issue[]): unknown;

  run(value: unknown, path: Path, issues: Issue[]): unknown {
    const start = issues.length;
    const out = this.parseType(value, path, issues);
    runChecks(this.checks, value, path, issues, start);
    return out;
  }

  refine(accept: (value: Out) => boolean, message?: string): Self {
    return this.with([...this.checks, refinement(accept, message)]);
  }
}

export class StringSchema extends CheckedSchema<string, StringSchema> {
  protected with(checks: readonly Check[]): StringSchema {
    return new StringSchema(checks);
  }
  protected parseType(value: unknown, path: Path, issues: Issue[]): unknown {
    if (typeof value !== 'string') issues.push(invalidType(path, 'string', value));
    return value;
  }
  min(minimum: number, message?: string): StringSchema {
    return this.with([...this.checks, minLength(minimum, message)]);
  }
  max(maximum: number, message?: string): StringSchema {
    return this.with([...this.checks, maxLength(maximum, message)]);
  }
  regex(pattern: RegExp, message?: string): StringSchema {
    return this.with([
      ...this.checks,
      {
        test(value, path, issues) {
          pattern.lastIndex = 0;
          if (pattern.test(value as string)) return;
          issues.push({
            code: 'invalid_format',
            path: [...path],
            message: message ?? `Invalid string: must match pattern ${String(pattern)}`,
            continue: true,
          });
        },
      },
    ]);
  }
  startsWith(prefix: string, message?: string): StringSchema {
    return this.with([
      ...this.checks,
      {
        test(value, path, issues) {
          if ((value as string).startsWith(prefix)) return;
          issues.push({
            code: 'invalid_format',
            path: [...path],
            message: message ?? `Invalid string: must start with "${prefix}"`,
            continue: true,
          });
        },
      },
    ]);
  }
}

export class NumberSchema extends CheckedSchema<number, NumberSchema> {
  protected with(checks: readonly Check[]): NumberSchema {
    return new NumberSchema(checks);
  }
  /** Finite numbers only: YAML's .inf and .nan are refused. */
  protected parseType(value: unknown, path: Path, issues: Issue[]): unknown {
    if (typeof value !== 'number' || !Number.isFinite(value)) issues.push(invalidType(path, 'number', value));
    return value;
  }
  /** A whole number within ±(2^53 - 1); a fraction stops the checks after this one. */
  int(): NumberSchema {
    return this.with([
      ...this.checks,
      {
        test(value, path, issues) {
          const n = value as number;
          if (!Number.isInteger(n)) issues.push(invalidType(path, 'int', n));
          else if (!Number.isSafeInteger(n))
            issues.push(
              n > 0
                ? { code: 'too_big', path: [...path], message: bound('big', 'int', Number.MAX_SAFE_INTEGER, true), continue: true }
                : { code: 'too_small', path: [...path], message: bound('small', 'int', Number.MIN_SAFE_INTEGER, true), continue: true },
            );
        },
      },
    ]);
  }
  min(minimum: number): NumberSchema {
    return this.atLeast(minimum, true);
  }
  positive(): NumberSchema {
    return this.atLeast(0, false);
  }
  nonnegative(): NumberSchema {
    return this.atLeast(0, true);
  }
  max(maximum: number): NumberSchema {
    return this.with([
      ...this.checks,
      {
        test(value, path, issues) {
          if ((value as number) <= maximum) return;
          issues.push({ code: 'too_big', path: [...path], message: bound('big', 'number', maximum, true), continue: true });
        },
      },
    ]);
  }
  private atLeast(minimum: number, inclusive: boolean): NumberSchema {
    return this.with([
      ...this.checks,
      {
        test(value, path, issues) {
          const n = value as number;
          if (inclusive ? n >= minimum : n > minimum) return;
          issues.push({ code: 'too_small', path: [...path], message: bound('small', 'number', minimum, inclusive), continue: true });
        },
      },
    ]);
  }
}

export class ArraySchema<Item> extends CheckedSchema<Item[], ArraySchema<Item>> {
  constructor(
    private readonly item: Schema<Item>,
    checks: readonly Check[] = [],
  ) {
    super(checks);
  }
  protected with(checks: readonly Check[]): ArraySchema<Item> {
    return new ArraySchema(this.item, checks);
  }
  override run(value: unknown, path: Path, issues: Issue[]): unknown {
    // A list over its maximum is refused before its items are looked at (a long list of bad
    // items would otherwise raise one issue per item); nothing after that runs.
    if (Array.isArray(value)) {
      for (const check of this.checks) {
        if (check.length === undefined) break;
        const max = check.length.max;
        if (max !== undefined && value.length > max) {
          const start = issues.length;
          check.test(value, path, issues);
          issues[start] = { ...issues[start]!, continue: false };
          return value;
        }
      }
    }
    return super.run(value, path, issues);
  }
  protected parseType(value: unknown, path: Path, issues: Issue[]): unknown {
    if (!Array.isArray(value)) {
      issues.push(invalidType(path, 'array', value));
      return value;
    }
    return value.map((item, index) => this.item.run(item, [...path, index], issues));
  }
  min(minimum: number, message?: string): ArraySchema<Item> {
    return this.with([...this.checks, minLength(minimum, message)]);
  }
  max(maximum: number, message?: string): ArraySchema<Item> {
    return this.with([...this.checks, maxLength(maximum, message)]);
  }
}

// ---- plain values ----------------------------------------------------------------------

class BooleanSchema extends Schema<boolean> {
  run(value: unknown, path: Path, issues: Issue[]): unknown {
    if (typeof value !== 'boolean') issues.push(invalidType(path, 'boolean', value));
    return value;
  }
}

class ValuesSchema<T> extends Schema<T> {
  constructor(
    readonly values: readonly T[],
    private readonly message?: string,
  ) {
    super();
  }
  run(value: unknown, path: Path, issues: Issue[]): unknown {
    if (this.values.includes(value as T)) return value;
    const message =
      this.message ??
      (this.values.length === 1
        ? `Invalid input: expected ${quoted(this.values[0])}`
        : `Invalid option: expected one of ${this.values.map(quoted).join('|')}`);
    issues.push({ code: 'invalid_value', path: [...path], message });
    return value;
  }
}

// ---- objects -------------------------------------------------------------------------------

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends { presence: 'optional' } ? K : never }[keyof S];
type Flat<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOutput<S extends Shape> = Flat<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }
>;

/** Adds issues about an object as a whole at paths relative to it. */
export type ObjectRefinement<T> = (value: T, report: (path: PathSegment[], message: string) => void) => void;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object with exactly the keys of `shape`: any other key is an issue naming it. */
export class ObjectSchema<S extends Shape> extends Schema<ObjectOutput<S>> {
  private readonly keySet: ReadonlySet<string>;
  constructor(
    readonly shape: S,
    // `never`: any object schema is an ObjectSchema<Shape> (a refinement's parameter would make it invariant).
    private readonly refinements: readonly ObjectRefinement<never>[] = [],
  ) {
    super();
    this.keySet = new Set(Object.keys(shape));
  }

  /** Checks the object as a whole, after its keys, unless an issue before stopped the checks. */
  refine(check: ObjectRefinement<ObjectOutput<S>>): ObjectSchema<S> {
    return new ObjectSchema<S>(this.shape, [...this.refinements, check as ObjectRefinement<never>]);
  }

  run(value: unknown, path: Path, issues: Issue[]): unknown {
    if (!isObject(value)) {
      issues.push(invalidType(path, 'object', value));
      return value;
    }
    const start = issues.length;
    const out: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(this.shape)) {
      const present = key in value;
      if (!present && schema.presence === 'optional') continue;
      const before = issues.length;
      const parsed = schema.run(value[key], [...path, key], issues);
      if (!present && schema.presence === 'required') {
        if (issues.length === before)
          issues.push({
            code: 'invalid_type',
            expected: 'nonoptional',
            path: [...path, key],
            message: 'Invalid input: expected nonoptional, received undefined',
          });
        continue;
      }
      if (present || parsed !== undefined) out[key] = parsed;
    }
    const unknown: string[] = [];
    for (const key in value) if (!this.keySet.has(key)) unknown.push(key);
    if (unknown.length > 0)
      issues.push({
        code: 'unrecognized_keys',
        keys: unknown,
        path: [...path],
        message: `Unrecognized key${unknown.length > 1 ? 's' : ''}: ${unknown.map(quoted).join(', ')}`,
        continue: true,
      });
    if (this.refinements.length > 0 && !stopsChecks(issues, start)) {
      const report = (at: PathSegment[], message: string): void => {
        issues.push({ code: 'custom', path: [...path, ...at], message, continue: true });
      };
      for (const refinement of this.refinements) {
        const before = issues.length;
        refinement(out as never, report);
        if (stopsChecks(issues, before)) break;
      }
    }
    return out;
  }
}

/** Objects told apart by one key (`type: tcp`), each checked by its own schema. */
class TaggedUnionSchema<Options extends readonly ObjectSchema<Shape>[]> extends Schema<Infer<Options[number]>> {
  private readonly byTag = new Map<unknown, ObjectSchema<Shape>>();
  constructor(
    private readonly tag: string,
    options: Options,
  ) {
    super();
    for (const option of options) {
      const tagSchema = option.shape[tag];
      if (!(tagSchema instanceof ValuesSchema)) throw new Error(`every option needs a literal "${tag}"`);
      for (const value of tagSchema.values as unknown[]) this.byTag.set(value, option);
    }
  }
  run(value: unknown, path: Path, issues: Issue[]): unknown {
    if (!isObject(value)) {
      issues.push(invalidType(path, 'object', value));
      return value;
    }
    const option = this.byTag.get(value[this.tag]);
    if (option !== undefined) return option.run(value, path, issues);
    const expected = [...this.byTag.keys()].map((tag) => `'${String(tag)}'`).join(' | ');
    issues.push({ code: 'invalid_union', path: [...path, this.tag], message: `Invalid discriminator value. Expected ${expected}` });
    return value;
  }
}

/** The first option that accepts the value wins. */
class UnionSchema<Options extends readonly Schema<unknown>[]> extends Schema<Infer<Options[number]>> {
  constructor(private readonly options: Options) {
    super();
  }
  run(value: unknown, path: Path, issues: Issue[]): unknown {
    const tries: Array<{ out: unknown; issues: Issue[] }> = [];
    for (const option of this.options) {
      const own: Issue[] = [];
      const out = option.run(value, path, own);
      if (own.length === 0) return out;
      tries.push({ out, issues: own });
    }
    const unstopped = tries.filter((t) => !stopsChecks(t.issues, 0));
    if (unstopped.length === 1) {
      issues.push(...unstopped[0]!.issues);
      return unstopped[0]!.out;
    }
    issues.push({ code: 'invalid_union', path: [...path], message: 'Invalid input' });
    return value;
  }
}

/** zod's test for a record: an object whose constructor, if any, looks like Object's. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (!isObject(value)) return false;
  const constructor = value.constructor;
  if (constructor === undefined || typeof constructor !== 'function') return true;
  const prototype: unknown = constructor.prototype;
  return isObject(prototype) && Object.prototype.hasOwnProperty.call(prototype, 'isPrototypeOf');
}

/** An object of any keys that pass `key`, each value checked by `item`. */
class RecordSchema<Item> extends Schema<Record<string, Item>> {
  constructor(
    private readonly key: Schema<string>,
    private readonly item: Schema<Item>,
  ) {
    super();
  }
  run(value: unknown, path: Path, issues: Issue[]): unknown {
    if (!isPlainObject(value)) {
      issues.push(invalidType(path, 'record', value));
      return value;
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      // A key named __proto__ would replace the result's prototype; it is dropped unread.
      if (key === '__proto__') continue;
      // The key's own issues are not reported, only that it is not a valid key (as zod does).
      if (!this.key.safeParse(key).success) {
        issues.push({ code: 'invalid_key', path: [...path, key], message: 'Invalid key in record' });
        continue;
      }
      out[key] = this.item.run(value[key], [...path, key], issues);
    }
    return out;
  }
}

// ---- builders ------------------------------------------------------------------------------

export const string = (): StringSchema => new StringSchema([]);
export const number = (): NumberSchema => new NumberSchema([]);
export const boolean = (): Schema<boolean> => new BooleanSchema();
export const array = <Item>(item: Schema<Item>): ArraySchema<Item> => new ArraySchema(item);
/** One of `values` (zod's enum). */
export const oneOf = <const T extends readonly (string | number)[]>(values: T): Schema<T[number]> => new ValuesSchema<T[number]>(values);
/** Exactly `value`; `message` replaces the default one. */
export const literal = <const T extends string | number | boolean>(value: T, message?: string): Schema<T> =>
  new ValuesSchema<T>([value], message);
export const object = <S extends Shape>(shape: S): ObjectSchema<S> => new ObjectSchema(shape);
export const taggedUnion = <const Options extends readonly ObjectSchema<Shape>[]>(
  tag: string,
  options: Options,
): Schema<Infer<Options[number]>> => new TaggedUnionSchema(tag, options);
export const union = <const Options extends readonly Schema<unknown>[]>(options: Options): Schema<Infer<Options[number]>> =>
  new UnionSchema(options);
export const record = <Item>(key: Schema<string>, item: Schema<Item>): Schema<Record<string, Item>> => new RecordSchema(key, item);
