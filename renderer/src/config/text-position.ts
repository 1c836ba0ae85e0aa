/**
 * The offset of a 1-based line and column in `text`, clamped to that line, so an editor
 * can put the cursor where an error points (a column may sit just past the line's end).
 */
export function offsetOfPosition(text: string, line: number, column: number): number {
  let start = 0;
  for (let current = 1; current < line; current++) {
    const next = text.indexOf('\n', start);
    if (next === -1) return text.length;
    start = next + 1;
  }
  const end = text.indexOf('\n', start);
  const lineEnd = end === -1 ? text.length : end;
  return Math.min(start + Math.max(column, 1) - 1, lineEnd);
}

/** How many lines an editor shows for `text`: a trailing newline opens one more. */
export function lineCount(text: string): number {
  let count = 1;
  for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) count++;
  return count;
}
