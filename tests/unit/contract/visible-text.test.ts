import { describe, expect, it } from 'vitest';
import { visibleLines, visibleStrings, visibleText } from '../../../electron/contract';

// OSC 52 (write the clipboard), a window title, a colour, a CSI as one C1 byte, a bidi override.
const OSC52 = '\x1b]52;c;cm0gLXJmIH4K\x07';
const TITLE = '\x1b]0;owned\x1b\\';
const COLOUR = '\x1b[31mred\x1b[0m';
const C1_CSI = '\u009b2J';
const RLO = 'evil\u202etxt.sh';

describe('visible text', () => {
  it('writes every control and bidi character as a visible escape', () => {
    expect(visibleText(`disk ${OSC52}`)).toBe('disk \\x1b]52;c;cm0gLXJmIH4K\\x07');
    expect(visibleText(TITLE)).toBe('\\x1b]0;owned\\x1b\\');
    expect(visibleText(COLOUR)).toBe('\\x1b[31mred\\x1b[0m');
    expect(visibleText(C1_CSI)).toBe('\\x9b2J');
    expect(visibleText(RLO)).toBe('evil\\u202etxt.sh');
    expect(visibleText('a\tb\nc\rd\x00e\x7f')).toBe('a\\x09b\\x0ac\\x0dd\\x00e\\x7f');
    for (const c of ['\u061c', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u2066', '\u2067', '\u2068', '\u2069']) {
      expect(visibleText(c)).toBe(`\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    }
  });

  it('leaves ordinary text, other scripts and emoji alone, and changes nothing the second time', () => {
    const plain = 'Samsung SSD 990 PRO 2TB — 東芝 Ünïcödé 🚀 \\x1b as typed';
    expect(visibleText(plain)).toBe(plain);
    const once = visibleText(`${OSC52}${RLO}${C1_CSI}`);
    expect(visibleText(once)).toBe(once);
  });

  it('keeps the newline and tab of a layout, and nothing else', () => {
    expect(visibleLines(`NAME\tMODEL\nsda\t${COLOUR}${RLO}`)).toBe('NAME\tMODEL\nsda\t\\x1b[31mred\\x1b[0mevil\\u202etxt.sh');
    expect(visibleLines('\r\x07')).toBe('\\x0d\\x07');
  });

  it('reaches every string of a nested value, keys included, and only strings', () => {
    const value = { a: [OSC52, 1, null, true, { [`k${C1_CSI}`]: RLO }], b: { c: COLOUR } };
    const shown = visibleStrings(value);
    // eslint-disable-next-line no-control-regex -- looking for control characters is the test
    expect(JSON.stringify(shown)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(shown).toEqual({
      a: ['\\x1b]52;c;cm0gLXJmIH4K\\x07', 1, null, true, { 'k\\x9b2J': 'evil\\u202etxt.sh' }],
      b: { c: '\\x1b[31mred\\x1b[0m' },
    });
    expect(value.a[0]).toBe(OSC52); // the input is not changed
  });
});
