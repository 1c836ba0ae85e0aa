import { describe, expect, it } from 'vitest';
import { formatTable, processTable } from '../../../agents-runtime/src/cli/sutazai-runtime';
import { visibleJson, visibleLines as terminalText } from '../../../agents-runtime/src/wire/visible-text';

// The runtime's CLI prints through the shared visible-text rules (wire/visible-text.ts).
const terminalJson = (value: unknown): string => visibleJson(value, 2);

// What sutazai-runtime prints comes partly from the daemon, and a program's last error carries
// the program's own output: an escape sequence in it must not reach the operator's terminal.
describe('the runtime CLI on a terminal', () => {
  it('writes every control character but newline and tab, and the bidi controls, as visible escapes', () => {
    expect(terminalText('boom \u001b]0;owned\u0007 \u001b[2J\r done\u009b\u202e!')).toBe(
      'boom \\x1b]0;owned\\x07 \\x1b[2J\\x0d done\\x9b\\u202e!',
    );
    expect(terminalText('line one\n\tline two')).toBe('line one\n\tline two');
    expect(terminalText('naïve “quotes” ✓')).toBe('naïve “quotes” ✓');
  });

  it('keeps JSON exact: the same characters as JSON escapes, which a reader turns back', () => {
    const value = { message: 'a\u001b[31mred\u009b\u202e' };
    const text = terminalJson(value);
    for (const c of ['\u001b', '\u009b', '\u202e']) expect(text).not.toContain(c);
    expect(JSON.parse(text)).toEqual(value);
  });

  it("prints a program's last error in the status table with its escapes visible, on one line", () => {
    const table = processTable(
      {
        processes: [
          {
            name: 'web',
            replicas: 1,
            instances: [
              {
                instance: 'web',
                state: 'PROCESS_STATE_BACKOFF',
                pid: 0,
                restarts: 2,
                startedAtMs: '0',
                lastError: { code: 'PROCESS_EXITED', message: 'exited 1: \u001b]0;owned\u0007\nlast line', remedy: '' },
              },
            ],
          },
        ],
      } as never,
      Date.now(),
    );
    expect([...table].filter((c) => c < ' ' && c !== '\n')).toEqual([]);
    expect(table).toContain('PROCESS_EXITED: exited 1: \\x1b]0;owned\\x07 last line');
    expect(table.split('\n')).toHaveLength(3);
  });

  it('measures table columns on the escaped cells', () => {
    const table = formatTable([
      ['NAME', 'LAST ERROR'],
      [terminalText('a\u001b'), 'x'],
      ['bb', 'y'],
    ]);
    expect(table).toBe('NAME   LAST ERROR\na\\x1b  x\nbb     y\n');
  });
});
