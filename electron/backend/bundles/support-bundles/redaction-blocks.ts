import { ANY_QUOTE, SECRET_KEY } from './redaction-rules';

/**
 * YAML block scalars under a secret's key: `password: |` (or `>`, `|-`, `>+`, `|2`, with a
 * comment) and then the lines indented deeper than the key, which are the value. A pattern
 * cannot say where such a value ends (it ends at the first line indented no deeper than its
 * key), so this scans for it. It finds the block in plain text (a configuration file, an
 * instance's log whose lines carry the runtime's stamp) and inside a JSON string at any depth
 * of quoting, where the line breaks are escaped (`\n`, `\\n`, ...): there the value stops at
 * the string's own end, so a replaced line never takes a closing quote with it.
 *
 * Each value line is its own span (its text after the indentation), so the file keeps its
 * lines, its indentation and its YAML.
 */

export interface BlockLine {
  start: number;
  end: number;
}

/** The key, up to the block indicator; what follows it on the header line is checked here. */
const HEADER = new RegExp(String.raw`${SECRET_KEY}(?:${ANY_QUOTE})?[ \t]{0,16}:[ \t]{1,16}[|>][-+1-9]{0,2}`, 'gi');
/** The runtime's stamp on an instance's log line in a bundle (support-collect.ts). */
const LOG_STAMP = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (?:out|err) /y;
/** How far the scan looks: a block longer than this many lines is cut there (its rest is left; the pattern rules still judge it). */
const MAX_BLOCK_LINES = 10_000;
/** Bounds on what is walked over around a header (a key's name, a comment). */
const MAX_KEY_LENGTH = 128;
const MAX_COMMENT_LENGTH = 1024;

/**
 * A line break at `at`: a real one (`newlineRun` 0) or one escaped inside a JSON string, whose
 * run of backslashes says how deep the string is quoted (1: `\n`, 2: `\\n`, 4: `\\\\n`).
 */
function lineBreakAt(text: string, at: number): { newlineRun: number; next: number } | null {
  if (text[at] === '\n') return { newlineRun: 0, next: at + 1 };
  if (text[at] === '\r' && text[at + 1] === '\n') return { newlineRun: 0, next: at + 2 };
  const run = backslashRun(text, at);
  if (run === 0) return null;
  if (text[at + run] === 'n') return { newlineRun: run, next: at + run + 1 };
  // An escaped \r\n: the same run before each.
  if (text[at + run] === 'r' && backslashRun(text, at + run + 1) === run && text[at + 2 * run + 1] === 'n')
    return { newlineRun: run, next: at + 2 * run + 2 };
  return null;
}

function backslashRun(text: string, at: number): number {
  let run = 0;
  while (text.charCodeAt(at + run) === 92) run++;
  return run;
}

/**
 * Where a line's text ends (before trailing spaces) and where the next line starts (-1: the
 * block cannot go on: the text or the JSON string holding it ends, or, inside a string, a real
 * line break). In a string quoted at depth d (newline run r = 2^(d-1)) a run of m backslashes
 * before `n` is a line break of this depth when m mod 2r = r; before `"` it is this string's
 * own quote (part of the value) only when m mod 2r = 2r-1, any other quote ends the string; a
 * quote written `\u0022` is the value's own when m mod 2r = r.
 */
function lineEnd(text: string, from: number, newlineRun: number): { end: number; next: number } {
  const trimmed = (end: number): number => {
    while (end > from && (text[end - 1] === ' ' || text[end - 1] === '\t' || text[end - 1] === '\r')) end--;
    return end;
  };
  const period = 2 * newlineRun;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') return { end: trimmed(i), next: newlineRun === 0 ? i + 1 : -1 };
    if (newlineRun === 0) continue;
    if (c === '"') return { end: trimmed(i), next: -1 };
    if (c !== '\\') continue;
    const run = backslashRun(text, i);
    const after = text[i + run];
    if (after === 'n' && run % period === newlineRun) return { end: trimmed(i), next: i + run + 1 };
    if (after === 'r' && run % period === newlineRun) {
      const br = lineBreakAt(text, i);
      if (br) return { end: trimmed(i), next: br.next };
    }
    if (after === '"' && run % period !== period - 1) return { end: trimmed(i), next: -1 };
    if (after === 'u' && text.startsWith('u0022', i + run) && run % period !== newlineRun) return { end: trimmed(i), next: -1 };
    // The run and the character it escapes belong to the line.
    i += run;
  }
  return { end: trimmed(text.length), next: -1 };
}

/**
 * The column of the key whose name the header's match starts in (its quote and any part of the
 * name before the secret word included), or null when the key does not start its line (it is
 * then no YAML mapping key: `note: password: |` is prose).
 */
function keyColumn(text: string, matchStart: number, newlineRun: number): number | null {
  let key = matchStart;
  while (matchStart - key < MAX_KEY_LENGTH && key > 0 && /[A-Za-z0-9_.-]/.test(text[key - 1]!)) key--;
  // An opening quote, escaped or not, or written by its code.
  if (text[key - 1] === '"' || text[key - 1] === "'") key--;
  else if (key >= 6 && text.startsWith('u0022', key - 5) && text[key - 6] === '\\') key -= 5;
  if (newlineRun > 0) while (key > 0 && text[key - 1] === '\\') key--;
  if (newlineRun === 0) {
    // The line's YAML starts after the runtime's stamp, when the line has one.
    let lineStart = text.lastIndexOf('\n', key - 1) + 1;
    LOG_STAMP.lastIndex = lineStart;
    if (LOG_STAMP.test(text) && LOG_STAMP.lastIndex <= key) lineStart = LOG_STAMP.lastIndex;
    return onlyIndentation(text, lineStart, key) ? key - lineStart : null;
  }
  let lineStart = key;
  while (lineStart > 0 && (text[lineStart - 1] === ' ' || (text[lineStart - 1] === '-' && text[lineStart] === ' '))) lineStart--;
  if (lineStart === 0) return key - lineStart;
  const period = 2 * newlineRun;
  const before = text[lineStart - 1];
  let run = 0;
  while (lineStart - 2 - run >= 0 && text[lineStart - 2 - run] === '\\') run++;
  // After a line break of the same depth, or at the start of the string holding the YAML.
  if (before === 'n' && run % period === newlineRun) return key - lineStart;
  if (before === '"' && run % period === newlineRun - 1) return key - lineStart;
  return null;
}

/** Whether [from, to) holds only spaces and list items' dashes (`  - `). */
function onlyIndentation(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (text[i] !== ' ' && !(text[i] === '-' && text[i + 1] === ' ')) return false;
  return true;
}

/** Each line of text of every secret block scalar, in order. */
export function* secretBlockLines(text: string): Generator<BlockLine> {
  for (const header of text.matchAll(HEADER)) {
    // The rest of the header line: spaces, maybe a comment, then its break.
    let at = header.index + header[0].length;
    while (text[at] === ' ' || text[at] === '\t') at++;
    let br = lineBreakAt(text, at);
    if (!br && text[at] === '#' && /[ \t]/.test(text[at - 1]!)) {
      const limit = Math.min(text.length, at + MAX_COMMENT_LENGTH);
      for (; at < limit && !br; at++) if (text[at] === '\n' || text[at] === '\\') br = lineBreakAt(text, at);
    }
    if (!br) continue;
    const column = keyColumn(text, header.index, br.newlineRun);
    if (column === null) continue;
    let next = br.next;
    for (let lines = 0; lines < MAX_BLOCK_LINES && next >= 0 && next < text.length; lines++) {
      let start = next;
      if (br.newlineRun === 0) {
        LOG_STAMP.lastIndex = start;
        if (LOG_STAMP.test(text)) start = LOG_STAMP.lastIndex;
      }
      let indent = 0;
      while (text[start + indent] === ' ') indent++;
      const line = lineEnd(text, start + indent, br.newlineRun);
      if (line.end > start + indent) {
        // A line indented no deeper than the key ends the block: it is the next key.
        if (indent <= column) break;
        yield { start: start + indent, end: line.end };
      }
      next = line.next;
    }
  }
}
