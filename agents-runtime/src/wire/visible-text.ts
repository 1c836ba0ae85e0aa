/**
 * Text from a managed host (a disk model, a hostname, a tool's output) is hostile: a
 * terminal obeys the escape sequences in it (OSC 52 writes the clipboard, others set the
 * title or redraw the screen) and bidi overrides make text read differently from what it
 * is. Every such character is written as a visible escape instead: `\x1b` for C0, DEL
 * and C1 controls, `\u202e` for the bidi controls. The result holds none of them, so
 * escaping twice changes nothing (the parser escapes facts, and the CLI and the page
 * escape again whatever they show, old stored facts included).
 *
 * It imports nothing, so every program shares it: the control center's contract re-exports
 * it (for the backend, its CLI and the renderer) and the runtime's own CLI uses it.
 */

// C0 (tab and newline included: a value must not break a line or a table), DEL, C1, and
// the bidi embeddings, overrides and isolates plus the marks (ALM, LRM, RLM). Matching
// control characters is the point of these patterns.
// eslint-disable-next-line no-control-regex
const HOSTILE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const HOSTILE_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escapeOne(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One value as plain visible text: no control or bidi character survives. */
export function visibleText(text: string): string {
  return text.replace(HOSTILE, escapeOne);
}

/** Text laid out in lines and columns by this program: keeps newline and tab, escapes the rest. */
export function visibleLines(text: string): string {
  return text.replace(HOSTILE_BUT_LINES, escapeOne);
}

/**
 * `visibleText` applied to every string in a JSON-like value (object keys included), so
 * no field can be forgotten. Numbers, booleans and null pass unchanged.
 */
export function visibleStrings<T>(value: T): T {
  return walk(value) as T;
}

function walk(value: unknown): unknown {
  if (typeof value === 'string') return visibleText(value);
  if (Array.isArray(value)) return value.map(walk);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[visibleText(key)] = walk(inner);
    return out;
  }
  return value;
}

/** JSON.stringify escapes C0 in strings; these are the rest a terminal or a reader acts on. */
const JSON_HIDDEN = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

/**
 * JSON for a terminal: values kept exactly, the characters above written as JSON's own
 * `\uXXXX` escapes, which any JSON reader turns back into the same string. `indent` as
 * JSON.stringify's (none: one line).
 */
export function visibleJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(JSON_HIDDEN, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
