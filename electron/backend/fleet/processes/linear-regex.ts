/**
 * A regular expression matcher whose time grows with the line's length times the
 * pattern's size, never more (Thompson's construction run as a Pike VM, as RE2 and Go's
 * regexp do): a pattern like `(a+)+$` over a long line, which sends JavaScript's
 * backtracking engine into exponential time, costs here what `a+$` costs. Log search
 * runs on the backend's one thread, so a backtracking engine would let one search stall
 * every client. Syntax: JavaScript's, without what needs backtracking (back-references,
 * look-ahead and look-behind), refused with a clear reason. It answers only whether a
 * line matches, which is all a filter needs.
 */

export class PatternError extends Error {}

/** The most instructions a compiled pattern may have (a{1000}{1000} would otherwise be a million). */
export const MAX_PROGRAM_SIZE = 10_000;

type CharTest = (code: number) => boolean;

type Node =
  | { kind: 'empty' }
  | { kind: 'char'; test: CharTest }
  | { kind: 'assert'; what: Assertion }
  | { kind: 'concat'; parts: Node[] }
  | { kind: 'alt'; options: Node[] }
  | { kind: 'repeat'; node: Node; min: number; max: number };

type Assertion = 'bol' | 'eol' | 'word' | 'notword';

const enum Op {
  Char,
  Split,
  Jump,
  Assert,
  Match,
}

interface Program {
  op: Op[];
  x: number[];
  y: number[];
  tests: Array<CharTest | null>;
  asserts: Array<Assertion | null>;
}

export interface CompiledPattern {
  /** Whether the pattern matches somewhere in `text`; `budget.steps` is charged for the work and the match stops with BudgetExceeded when it runs out. */
  test(text: string, budget: WorkBudget): boolean;
  readonly size: number;
}

export interface WorkBudget {
  steps: number;
}

export class BudgetExceeded extends Error {}

export function compileLinearRegex(pattern: string, options: { ignoreCase: boolean }): CompiledPattern {
  try {
    // JavaScript's own parser names a syntax error in words people know; it only parses here.
    new RegExp(pattern);
  } catch (error) {
    throw new PatternError((error as Error).message);
  }
  const parser = new Parser(pattern, options.ignoreCase);
  const node = parser.parse();
  const program: Program = { op: [], x: [], y: [], tests: [], asserts: [] };
  emit(program, node);
  push(program, Op.Match);
  const size = program.op.length;
  const fold = options.ignoreCase;
  return {
    size,
    test: (text, budget) => run(program, fold ? text.toLowerCase() : text, budget),
  };
}

// ---------------------------------------------------------------- parsing

const isWordCode = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isDigitCode = (c: number): boolean => c >= 48 && c <= 57;
const SPACE = /\s/;
const isSpaceCode = (c: number): boolean => SPACE.test(String.fromCharCode(c));

class Parser {
  private pos = 0;
  constructor(
    private readonly src: string,
    private readonly fold: boolean,
  ) {}

  parse(): Node {
    const node = this.alternation();
    if (this.pos < this.src.length) throw new PatternError(`unmatched ")" at position ${this.pos + 1}`);
    return node;
  }

  private peek(): string | undefined {
    return this.src[this.pos];
  }

  private alternation(): Node {
    const options = [this.concatenation()];
    while (this.peek() === '|') {
      this.pos += 1;
      options.push(this.concatenation());
    }
    return options.length === 1 ? options[0]! : { kind: 'alt', options };
  }

  private concatenation(): Node {
    const parts: Node[] = [];
    while (this.pos < this.src.length && this.peek() !== '|' && this.peek() !== ')') {
      parts.push(this.quantified(this.atom()));
    }
    if (parts.length === 0) return { kind: 'empty' };
    return parts.length === 1 ? parts[0]! : { kind: 'concat', parts };
  }

  private quantified(atom: Node): Node {
    for (;;) {
      const c = this.peek();
      let min: number;
      let max: number;
      if (c === '*') [min, max] = [0, Infinity];
      else if (c === '+') [min, max] = [1, Infinity];
      else if (c === '?') [min, max] = [0, 1];
      else if (c === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos));
        if (!m) return atom; // a literal brace, as JavaScript reads it
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
        if (min > 1000 || (max !== Infinity && max > 1000))
          throw new PatternError('a counted repetition above 1000 is too large to search with');
        this.pos += m[0].length - 1;
      } else return atom;
      this.pos += 1;
      // Lazy or greedy matters for what is captured, not for whether a line matches.
      if (this.peek() === '?') this.pos += 1;
      if (atom.kind === 'assert') throw new PatternError('an anchor or word boundary cannot be repeated');
      atom = { kind: 'repeat', node: atom, min, max };
    }
  }

  private atom(): Node {
    const c = this.src[this.pos++]!;
    switch (c) {
      case '(':
        return this.group();
      case '.':
        return { kind: 'char', test: (code) => code !== 10 && code !== 13 && code !== 0x2028 && code !== 0x2029 };
      case '^':
        return { kind: 'assert', what: 'bol' };
      case '$':
        return { kind: 'assert', what: 'eol' };
      case '[':
        return { kind: 'char', test: this.charClass() };
      case '\\':
        return this.escape();
      default:
        return this.literal(c.charCodeAt(0));
    }
  }

  private group(): Node {
    if (this.src.startsWith('?=', this.pos) || this.src.startsWith('?!', this.pos))
      throw new PatternError('look-ahead ((?=...) and (?!...)) is not supported: it needs backtracking');
    if (this.src.startsWith('?<=', this.pos) || this.src.startsWith('?<!', this.pos))
      throw new PatternError('look-behind ((?<=...) and (?<!...)) is not supported: it needs backtracking');
    if (this.src.startsWith('?:', this.pos)) this.pos += 2;
    else if (this.src.startsWith('?<', this.pos)) {
      const end = this.src.indexOf('>', this.pos);
      this.pos = end + 1;
    }
    const inner = this.alternation();
    if (this.peek() !== ')') throw new PatternError('a group is not closed with ")"');
    this.pos += 1;
    return inner;
  }

  private literal(code: number): Node {
    const want = this.fold ? foldCode(code) : code;
    return { kind: 'char', test: (got) => got === want };
  }

  private escape(): Node {
    const c = this.src[this.pos++];
    if (c === undefined) throw new PatternError('the pattern ends with a lone "\\"');
    if (c === 'b') return { kind: 'assert', what: 'word' };
    if (c === 'B') return { kind: 'assert', what: 'notword' };
    if (/[1-9]/.test(c) || (c === 'k' && this.peek() === '<'))
      throw new PatternError('back-references (\\1, \\k<name>) are not supported: they need backtracking');
    const test = this.classEscape(c);
    if (test) return { kind: 'char', test };
    return this.literal(this.escapedCode(c));
  }

  /** \d \D \w \W \s \S, or null. */
  private classEscape(c: string): CharTest | null {
    switch (c) {
      case 'd':
        return isDigitCode;
      case 'D':
        return (code) => !isDigitCode(code);
      case 'w':
        return isWordCode;
      case 'W':
        return (code) => !isWordCode(code);
      case 's':
        return isSpaceCode;
      case 'S':
        return (code) => !isSpaceCode(code);
      default:
        return null;
    }
  }

  private escapedCode(c: string): number {
    switch (c) {
      case 't':
        return 9;
      case 'n':
        return 10;
      case 'r':
        return 13;
      case 'f':
        return 12;
      case 'v':
        return 11;
      case '0':
        return 0;
      case 'x': {
        const hex = /^[0-9a-fA-F]{2}/.exec(this.src.slice(this.pos));
        if (!hex) return 'x'.charCodeAt(0);
        this.pos += 2;
        return parseInt(hex[0], 16);
      }
      case 'u': {
        const hex = /^[0-9a-fA-F]{4}/.exec(this.src.slice(this.pos));
        if (!hex) return 'u'.charCodeAt(0);
        this.pos += 4;
        return parseInt(hex[0], 16);
      }
      case 'c': {
        const letter = this.peek();
        if (letter && /[A-Za-z]/.test(letter)) {
          this.pos += 1;
          return letter.charCodeAt(0) % 32;
        }
        return '\\'.charCodeAt(0);
      }
      default:
        return c.charCodeAt(0);
    }
  }

  private charClass(): CharTest {
    const negated = this.peek() === '^';
    if (negated) this.pos += 1;
    const ranges: Array<[number, number]> = [];
    const tests: CharTest[] = [];
    let first = true;
    for (;;) {
      const c = this.src[this.pos++];
      if (c === undefined) throw new PatternError('a character class is not closed with "]"');
      if (c === ']' && !first) break;
      if (c === ']' && first) break; // [] matches nothing, [^] anything, as in JavaScript
      first = false;
      let low: number;
      if (c === '\\') {
        const e = this.src[this.pos++];
        if (e === undefined) throw new PatternError('a character class is not closed with "]"');
        const test = this.classEscape(e);
        if (test) {
          tests.push(test);
          continue;
        }
        low = e === 'b' ? 8 : this.escapedCode(e);
      } else low = c.charCodeAt(0);
      let high = low;
      if (this.peek() === '-' && this.src[this.pos + 1] !== undefined && this.src[this.pos + 1] !== ']') {
        this.pos += 1;
        const h = this.src[this.pos++]!;
        if (h === '\\') {
          const e = this.src[this.pos++]!;
          if (this.classEscape(e)) {
            // [a-\d]: JavaScript reads the dash as itself.
            ranges.push([low, low], [45, 45]);
            tests.push(this.classEscape(e)!);
            continue;
          }
          high = e === 'b' ? 8 : this.escapedCode(e);
        } else high = h.charCodeAt(0);
      }
      ranges.push([low, high]);
    }
    const fold = this.fold;
    const inRanges = (code: number): boolean => {
      for (const [lo, hi] of ranges) if (code >= lo && code <= hi) return true;
      return false;
    };
    const member = (code: number): boolean => {
      if (inRanges(code) || tests.some((t) => t(code))) return true;
      // The line is lower-cased; a range written in capitals must still take its letters.
      if (fold) {
        const upper = String.fromCharCode(code).toUpperCase();
        if (upper.length === 1 && inRanges(upper.charCodeAt(0))) return true;
      }
      return false;
    };
    return negated ? (code) => !member(code) : member;
  }
}

function foldCode(code: number): number {
  const lower = String.fromCharCode(code).toLowerCase();
  return lower.length === 1 ? lower.charCodeAt(0) : code;
}

// ---------------------------------------------------------------- compiling

function push(p: Program, op: Op, x = 0, y = 0, test: CharTest | null = null, assertion: Assertion | null = null): number {
  if (p.op.length >= MAX_PROGRAM_SIZE)
    throw new PatternError(
      `the pattern compiles to more than ${MAX_PROGRAM_SIZE} steps; write it with fewer or smaller counted repetitions`,
    );
  p.op.push(op);
  p.x.push(x);
  p.y.push(y);
  p.tests.push(test);
  p.asserts.push(assertion);
  return p.op.length - 1;
}

function emit(p: Program, node: Node): void {
  switch (node.kind) {
    case 'empty':
      return;
    case 'char':
      push(p, Op.Char, 0, 0, node.test);
      return;
    case 'assert':
      push(p, Op.Assert, 0, 0, null, node.what);
      return;
    case 'concat':
      for (const part of node.parts) emit(p, part);
      return;
    case 'alt': {
      // split L1, next; L1: a; jmp end; next: split L2, ... ; last option
      const jumps: number[] = [];
      node.options.forEach((option, index) => {
        if (index === node.options.length - 1) {
          emit(p, option);
          return;
        }
        const split = push(p, Op.Split);
        p.x[split] = p.op.length;
        emit(p, option);
        jumps.push(push(p, Op.Jump));
        p.y[split] = p.op.length;
      });
      for (const jump of jumps) p.x[jump] = p.op.length;
      return;
    }
    case 'repeat': {
      for (let i = 0; i < node.min; i += 1) emit(p, node.node);
      if (node.max === Infinity) {
        // L: split body, end; body; jmp L
        const split = push(p, Op.Split);
        p.x[split] = p.op.length;
        emit(p, node.node);
        push(p, Op.Jump, split);
        p.y[split] = p.op.length;
        return;
      }
      const splits: number[] = [];
      for (let i = node.min; i < node.max; i += 1) {
        const split = push(p, Op.Split);
        p.x[split] = p.op.length;
        splits.push(split);
        emit(p, node.node);
      }
      for (const split of splits) p.y[split] = p.op.length;
      return;
    }
  }
}

// ---------------------------------------------------------------- running

function run(p: Program, text: string, budget: WorkBudget): boolean {
  const size = p.op.length;
  let current = new Int32Array(size);
  let next = new Int32Array(size);
  let currentCount = 0;
  // Generation marks: a pc is on the list being built when mark[pc] === generation.
  const mark = new Uint32Array(size);
  let generation = 1;
  const stack = new Int32Array(size * 2 + 2);

  const holds = (what: Assertion, at: number): boolean => {
    switch (what) {
      case 'bol':
        return at === 0;
      case 'eol':
        return at === text.length;
      default: {
        const before = at > 0 && isWordCode(text.charCodeAt(at - 1));
        const after = at < text.length && isWordCode(text.charCodeAt(at));
        return what === 'word' ? before !== after : before === after;
      }
    }
  };

  // Adds pc and everything reachable from it without reading a character; true when Match is reachable.
  const add = (list: Int32Array, count: number, start: number, at: number): { count: number; matched: boolean } => {
    let top = 0;
    stack[top++] = start;
    let matched = false;
    while (top > 0) {
      const pc = stack[--top]!;
      if (mark[pc] === generation) continue;
      mark[pc] = generation;
      budget.steps -= 1;
      switch (p.op[pc]) {
        case Op.Jump:
          stack[top++] = p.x[pc]!;
          break;
        case Op.Split:
          stack[top++] = p.y[pc]!;
          stack[top++] = p.x[pc]!;
          break;
        case Op.Assert:
          if (holds(p.asserts[pc]!, at)) stack[top++] = pc + 1;
          break;
        case Op.Match:
          matched = true;
          break;
        default:
          list[count++] = pc;
      }
    }
    return { count, matched };
  };

  for (let at = 0; ; at += 1) {
    if (budget.steps <= 0) throw new BudgetExceeded();
    // A new attempt starts at every position (the search is unanchored); it joins the same list.
    const started = add(current, currentCount, 0, at);
    currentCount = started.count;
    if (started.matched) return true;
    if (at >= text.length || currentCount === 0) {
      if (at >= text.length) return false;
      // Nothing alive and the start needs a character: try the next position.
      generation += 1;
      continue;
    }
    const code = text.charCodeAt(at);
    generation += 1;
    let nextCount = 0;
    for (let i = 0; i < currentCount; i += 1) {
      const pc = current[i]!;
      budget.steps -= 1;
      if (p.tests[pc]!(code)) {
        const added = add(next, nextCount, pc + 1, at + 1);
        nextCount = added.count;
        if (added.matched) return true;
      }
    }
    [current, next] = [next, current];
    currentCount = nextCount;
  }
}
