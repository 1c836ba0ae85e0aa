// Log search: the linear-time matcher agrees with JavaScript's RegExp on what it accepts,
// refuses what needs backtracking with a reason, and a pattern that is catastrophic for a
// backtracking engine costs it work in proportion to the line, counted, never a stall.
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../../electron/contract';
import { compileLinearRegex } from '../../../../electron/backend/fleet/processes/linear-regex';
import { compileLogSearch, filterLines } from '../../../../electron/backend/fleet/processes/log-search';
import { fitLines, MAX_ANSWER_CHARS, toFleetLine } from '../../../../electron/backend/fleet/processes/log-lines';
import { MAX_LOG_LINE_CHARS } from '../../../../electron/contract';

const CASES: Array<[string, string, boolean]> = [
  ['(a+)+$', 'aaaa', false],
  ['(a+)+$', 'aaab', false],
  ['^err', 'error x', false],
  ['^err', 'x error', false],
  ['\\berror\\b', 'an error!', false],
  ['\\berror\\b', 'errors', false],
  ['a{2,3}b', 'xaab', false],
  ['a{2,3}b', 'xab', false],
  ['[A-Z]+\\d', 'x AB1', false],
  ['[^a-z]', 'abc', false],
  ['foo|bar', 'xbarx', false],
  ['colou?r', 'color', false],
  ['x.z', 'x\u0000z', false],
  ['ERROR', 'an error', true],
  ['[A-F]', 'zzc', true],
  ['\\x1b\\[31m', '\u001b[31mred', false],
  ['(?:ab|cd)*e$', 'ababcde', false],
  ['(?<word>\\w+) failed', 'job 7 failed', false],
  ['\\d{3,}', 'pid 12', false],
  ['\\s\\S', ' x', false],
  ['a.c', 'a\nc', false],
];

describe('the linear-time matcher', () => {
  it.each(CASES)('/%s/ on %j answers as RegExp does', (pattern, text, ignoreCase) => {
    const expected = new RegExp(pattern, ignoreCase ? 'i' : '').test(text);
    expect(compileLinearRegex(pattern, { ignoreCase }).test(text, { steps: 1e9 })).toBe(expected);
  });

  it('refuses back-references, look-around, oversized repetitions and syntax errors, each with its reason', () => {
    const refused = (pattern: string) => {
      try {
        compileLogSearch({ pattern, regex: true, ignoreCase: false });
      } catch (error) {
        expect(error).toBeInstanceOf(ApiError);
        expect(error).toMatchObject({ code: 'LOG_SEARCH_INVALID' });
        expect((error as ApiError).remedy.length).toBeGreaterThan(20);
        return (error as ApiError).message;
      }
      throw new Error(`${pattern} was accepted`);
    };
    expect(refused('(a)\\1')).toContain('back-references');
    expect(refused('(?=a)b')).toContain('look-ahead');
    expect(refused('(?<!a)b')).toContain('look-behind');
    expect(refused('a{2000}')).toContain('above 1000');
    expect(refused('(?:a{1000}){1000}')).toContain('more than');
    expect(refused('(unclosed')).toContain('Unterminated group');
  });

  it('matches (a+)+$ on a 1 MB line by counted work proportional to the line, not exponential time', () => {
    const line = `${'a'.repeat(1_000_000)}!`;
    const budget = { steps: 1e9 };
    expect(compileLinearRegex('(a+)+$', { ignoreCase: false }).test(line, budget)).toBe(false);
    const spent = 1e9 - budget.steps;
    // A few steps per character of the line: linear, where backtracking would never end.
    expect(spent).toBeLessThan(line.length * 20);
    expect(spent).toBeGreaterThan(line.length);
  });

  it('stops with LOG_SEARCH_TOO_COSTLY when the work passes the budget, and keeps plain text searches', () => {
    const lines = Array.from({ length: 50 }, (_, i) => ({ text: `${'x'.repeat(10_000)} ${i}` }));
    const matcher = compileLogSearch({ pattern: '(x|y)+z', regex: true, ignoreCase: false });
    expect(() => filterLines(lines, matcher, 100_000)).toThrow(expect.objectContaining({ code: 'LOG_SEARCH_TOO_COSTLY' }));
    const plain = compileLogSearch({ pattern: 'X 4', regex: false, ignoreCase: true });
    expect(filterLines(lines, plain).map((l) => l.text.split(' ')[1])).toEqual([
      '4',
      '40',
      '41',
      '42',
      '43',
      '44',
      '45',
      '46',
      '47',
      '48',
      '49',
    ]);
  });
});

describe('log lines in an answer', () => {
  it('cuts a 1 MB line to what is shown and counts the rest; control bytes are kept for the reader to escape', () => {
    const line = toFleetLine({
      atMs: '1700000000000',
      instance: 'agent-1',
      stream: 'LOG_STREAM_STDERR',
      text: `\u001b]52;c;x\u0007${'y'.repeat(1_048_576)}`,
    });
    expect(line).toMatchObject({ atMs: 1_700_000_000_000, instance: 'agent-1', stream: 'stderr' });
    expect(line.text.length).toBe(MAX_LOG_LINE_CHARS);
    expect(line.cutChars).toBe(1_048_576 + 9 - MAX_LOG_LINE_CHARS);
    expect(line.text.startsWith('\u001b]52;c;x\u0007')).toBe(true);
  });

  it('keeps an answer under the message limit, dropping the oldest lines and saying how many', () => {
    const lines = Array.from({ length: 100 }, (_, i) =>
      toFleetLine({ atMs: String(i), instance: 'core-1', stream: 'LOG_STREAM_STDOUT', text: `${i} ${'z'.repeat(20_000)}` }),
    );
    const fitted = fitLines(lines);
    expect(fitted.omitted).toBeGreaterThan(0);
    expect(fitted.lines.length + fitted.omitted).toBe(100);
    expect(fitted.lines.at(-1)!.atMs).toBe(99);
    expect(JSON.stringify(fitted.lines).length).toBeLessThan(MAX_ANSWER_CHARS + 100 * 200);
    const parts = fitLines(lines, { keep: 'oldest' });
    expect(parts.lines[0]!.atMs).toBe(0);
    expect(parts.taken).toBe(parts.lines.length);
  });
});
