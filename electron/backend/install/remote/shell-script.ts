/**
 * Shell script text built only by `sh` (or marked with `rawShell`): the one way a script
 * that runs on a host is made, so that no value reaches a remote shell unquoted.
 * `RemoteShell.run` takes nothing else.
 */
export class ShellScript {
  /** Only `sh` and `rawShell` make these; the constructor is not for other code. */
  constructor(
    readonly text: string,
    brand: typeof BRAND,
  ) {
    if (brand !== BRAND) throw new Error('a ShellScript is made by sh`...` or rawShell()');
  }

  toString(): string {
    return this.text;
  }
}

const BRAND = Symbol('shell-script');

/** What may be put into a script: a value (quoted for where it stands), a list of values (each its own word), or script text. */
export type ShellValue = string | number | ShellScript | readonly (string | number)[];

/**
 * A script from a template, in which every interpolated value is quoted for the place it
 * stands in: a word of its own (single quotes), or inside double quotes (a backslash before
 * `$`, backquote, `"` and `\`); a whole number stands bare. A ShellScript is inserted as script text. A value anywhere
 * else (single quotes, a comment, `${...}`, backquotes) is a programming error and throws,
 * as does a template whose quotes are not closed at its end.
 */
export function sh(strings: TemplateStringsArray, ...values: ShellValue[]): ShellScript {
  const lexer = new QuoteLexer();
  let text = '';
  strings.forEach((part, index) => {
    lexer.feed(part);
    text += part;
    if (index < values.length) {
      const inserted = insert(values[index]!, lexer.context());
      lexer.feed(inserted.lexed);
      text += inserted.text;
    }
  });
  lexer.end();
  return new ShellScript(text, BRAND);
}

/**
 * Script text taken as it is: constant code (a prelude, an awk program) that holds no
 * value from configuration, a host or a request. Balanced quotes are checked.
 */
export function rawShell(text: string): ShellScript {
  const lexer = new QuoteLexer();
  lexer.feed(text);
  lexer.end();
  return new ShellScript(text, BRAND);
}

/** Scripts one after the other, `separator` (newline by default) between them. */
export function joinShell(parts: readonly ShellScript[], separator = '\n'): ShellScript {
  return rawShell(parts.map((part) => part.text).join(separator));
}

/** Text for inside double quotes: `$`, backquote, `"` and `\` lose their meaning. */
export function escapeForDoubleQuotes(value: string): string {
  if (value.includes('\0')) throw new Error('a shell word cannot hold a NUL byte');
  return value.replace(/[$`"\\]/g, '\\$&');
}

type Context = 'word' | 'double' | 'single' | 'comment' | 'brace' | 'backquote';

function insert(value: ShellValue, context: Context): { text: string; lexed: string } {
  if (value instanceof ShellScript) {
    if (context !== 'word') throw new Error(`script text cannot go into ${describe(context)} of a shell script`);
    return { text: value.text, lexed: value.text };
  }
  if (Array.isArray(value)) {
    if (context !== 'word') throw new Error(`a list of values cannot go into ${describe(context)} of a shell script`);
    // A quoted word leaves the lexer where it was: nothing to feed it.
    return { text: (value as readonly (string | number)[]).map((v) => shellQuote(String(v))).join(' '), lexed: '' };
  }
  // A whole number has no character a shell treats specially: it stands bare.
  if (typeof value === 'number' && Number.isSafeInteger(value) && (context === 'word' || context === 'double'))
    return { text: String(value), lexed: '' };
  const text = String(value);
  if (context === 'word') return { text: shellQuote(text), lexed: '' };
  if (context === 'double') return { text: escapeForDoubleQuotes(text), lexed: '' };
  throw new Error(`a value cannot go into ${describe(context)} of a shell script: put it in a variable first`);
}

function describe(context: Context): string {
  return {
    word: 'a word',
    double: 'double quotes',
    single: 'single quotes',
    comment: 'a comment',
    brace: '${...}',
    backquote: 'backquotes',
  }[context];
}

/**
 * Follows a POSIX sh script's quoting as it is written, enough to know where the next
 * character stands: in a plain word, inside single or double quotes, a comment, `${...}`,
 * backquotes, or a command substitution `$(...)` (where words are plain again). Here-documents
 * are not followed, so they are refused.
 */
class QuoteLexer {
  private stack: Array<{ kind: Context | 'subst'; depth: number }> = [{ kind: 'word', depth: 0 }];
  private previous = '\n';
  private escaped = false;

  context(): Context {
    const top = this.top().kind;
    return top === 'subst' ? 'word' : top;
  }

  feed(text: string): void {
    for (let i = 0; i < text.length; i += 1) {
      const c = text[i]!;
      const next = text[i + 1];
      const frame = this.top();
      if (this.escaped) {
        this.escaped = false;
        this.previous = 'x';
        continue;
      }
      switch (frame.kind) {
        case 'single':
          if (c === "'") this.stack.pop();
          break;
        case 'comment':
          if (c === '\n') this.stack.pop();
          break;
        case 'double':
          if (c === '\\') this.escaped = true;
          else if (c === '"') this.stack.pop();
          else if (c === '`') this.push('backquote');
          else if (c === '$' && (next === '(' || next === '{')) {
            this.push(next === '(' ? 'subst' : 'brace');
            i += 1;
          }
          break;
        case 'backquote':
          if (c === '\\') this.escaped = true;
          else if (c === '`') this.stack.pop();
          break;
        case 'brace':
        case 'word':
        case 'subst':
          if (c === '\\') this.escaped = true;
          else if (c === "'") this.push('single');
          else if (c === '"') this.push('double');
          else if (c === '`') this.push('backquote');
          else if (c === '#' && /[\s;&|()]/.test(this.previous)) this.push('comment');
          else if (c === '$' && (next === '(' || next === '{')) {
            this.push(next === '(' ? 'subst' : 'brace');
            i += 1;
          } else if (c === '<' && next === '<' && frame.kind !== 'subst')
            throw new Error('here-documents are not supported in a built shell script');
          else if (frame.kind === 'brace' && c === '}') this.stack.pop();
          else if (frame.kind === 'subst' && c === '(') frame.depth += 1;
          else if (frame.kind === 'subst' && c === ')') {
            if (frame.depth === 0) this.stack.pop();
            else frame.depth -= 1;
          }
          break;
      }
      this.previous = c;
    }
  }

  end(): void {
    if (this.escaped || this.stack.length !== 1) throw new Error(`a shell script ends inside ${describe(this.context())}`);
  }

  private top() {
    return this.stack[this.stack.length - 1]!;
  }

  private push(kind: Context | 'subst'): void {
    this.stack.push({ kind, depth: 0 });
  }
}

/**
 * One word for a POSIX shell, whatever it holds: single quotes, with each single quote
 * written as '\''. Only `sh` uses it: a script is built by `sh`, not by hand.
 */
function shellQuote(value: string): string {
  if (value.includes('\0')) throw new Error('a shell word cannot hold a NUL byte');
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
