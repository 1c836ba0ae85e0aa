import { visibleJson, visibleLines } from '../../contract';

/**
 * The one place the CLI writes to its standard output and error. What it prints carries
 * text from managed hosts (facts, tool output, error details) and from files, and a
 * terminal obeys escape sequences in it: so every control character but the newline and
 * tab of our own layout is written as a visible escape (`\x1b`), and the bidi controls as
 * `\u202e`. JSON keeps its values exactly: the same characters become JSON's own `\u`
 * escapes, which any JSON reader turns back into the same string.
 */

export function jsonForTerminal(value: unknown): string {
  return visibleJson(value, 2);
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
  process.stdout.write(`${visibleJson(value)}\n`);
}

/** The command's result: JSON under --json, else the text. */
export function printResult(json: boolean, text: string, value: unknown): void {
  if (json) writeJson(value);
  else writeOut(text);
}
