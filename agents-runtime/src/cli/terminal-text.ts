/**
 * Text from the daemon (a program's last error carries its own output), a config file or a
 * peer, made safe to print on an operator's terminal, which obeys escape sequences: every
 * control character (C0 but the newline and tab of our own layout, DEL, C1) is written as a
 * visible escape (`\x1b`), and so are the bidi controls that reorder what a line shows
 * (`\u202e`). JSON output keeps values exactly, as JSON's own `\u` escapes of the same
 * characters. The control center's CLI does the same (electron/backend/cli/terminal-output.ts);
 * the runtime is a program of its own and imports nothing of it.
 */
// eslint-disable-next-line no-control-regex -- the control characters are what this finds
const HIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;
const JSON_HIDDEN = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

function escapeOf(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every character a terminal would act on written visibly. */
export function terminalText(text: string): string {
  return text.replace(HIDDEN, escapeOf);
}

/** JSON for a terminal: JSON.stringify escapes C0; the rest it leaves are escaped as `\uXXXX`. */
export function terminalJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(JSON_HIDDEN, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
