import { visibleLines } from '../../contract';

/**
 * The one place the CLI writes to its standard output and error. What it prints carries
 * text from managed hosts (facts, tool output, error details) and from files, and a
 * terminal obeys escape sequences in it: so every control character but the newline and
 * tab of our own layout is written as a visible escape (`\x1b`), and the bidi controls as
 * `\u202e`. JSON keeps its values exactly: the same characters become JSON's own `\u`
 * escapes, which any JSON reader turns back into the same string.
 */

// JSON.stringify already escapes C0; these are the rest that a terminal or a reader acts on.
const JSON_HIDDEN = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

export function jsonForTerminal(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(JSON_HIDDEN, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A line (or lines) of text for people or scripts, on stdout. */
export function writeOut(text: string): void {
  process.stdout.write(`${visibleLines(text)}\n`);
}

/** Progress, warnings and errors, on stderr. */
export function writeErr(text: string): void {
  process.stderr.write(`${visibleLines(text)}\n`);
}

/** `--json` output, on stdout. */
export function writeJson(value: unknown): void {
  process.stdout.write(`${jsonForTerminal(value)}\n`);
}

/** One JSON object on one line (a stream under --json: followed log lines, a watched status). */
export function writeJsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value).replace(JSON_HIDDEN, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`);
}

/** The command's result: JSON under --json, else the text. */
export function printResult(json: boolean, text: string, value: unknown): void {
  if (json) writeJson(value);
  else writeOut(text);
}
