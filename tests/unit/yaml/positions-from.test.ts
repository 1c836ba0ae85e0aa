// positionsFrom names lines and columns without the yaml library's LineCounter (so nothing it
// returns keeps the library loaded in the runtime: yaml-on-demand.ts), and must name them as the
// LineCounter does: at, between and before line starts, past the end, in CRLF text, with no lines.
import { describe, expect, it } from 'vitest';
import { LineCounter, parseDocument } from 'yaml';
import { parseLocatedYaml, positionsFrom } from '../../../agents-runtime/src/yaml/locate-issue';

function lineCounterOf(starts: readonly number[]): LineCounter {
  const counter = new LineCounter();
  for (const start of starts) counter.addNewLine(start);
  return counter;
}

function startsOf(text: string): number[] {
  const counter = new LineCounter();
  parseDocument(text, { lineCounter: counter });
  return counter.lineStarts;
}

describe('positionsFrom', () => {
  const texts = ['', 'a: 1', 'a: 1\n', 'a: 1\nb:\n  - x\n  - y\n\n\nc: "long value"\n', 'a: 1\r\nb: 2\r\n', '\n\n\n'];
  for (const text of texts) {
    it(`names every offset of ${JSON.stringify(text)} as the LineCounter does`, () => {
      const starts = startsOf(text);
      const position = positionsFrom(starts);
      const counter = lineCounterOf(starts);
      for (let offset = 0; offset <= text.length + 2; offset += 1) {
        const { line, col } = counter.linePos(offset);
        expect(position(offset), `offset ${offset}`).toEqual({ line, column: col });
      }
    });
  }

  it('agrees before the first line start and with no line starts at all', () => {
    for (const starts of [[], [5], [3, 9]]) {
      const position = positionsFrom(starts);
      const counter = lineCounterOf(starts);
      for (let offset = 0; offset < 12; offset += 1) {
        const { line, col } = counter.linePos(offset);
        expect(position(offset), `starts ${JSON.stringify(starts)} offset ${offset}`).toEqual({ line, column: col });
      }
    }
  });

  it('is what parseLocatedYaml names a syntax error with', () => {
    const located = parseLocatedYaml('a: 1\nb: [unclosed\n', 'file.yaml');
    expect(located.syntaxError).toMatch(/^file\.yaml:\d+:\d+: /);
    expect(located.position(5)).toEqual({ line: 2, column: 1 });
  });
});
