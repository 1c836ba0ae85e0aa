/**
 * One word for a POSIX shell, whatever it holds: single quotes, with each single quote
 * written as '\''. Every path and value put into a script on a host goes through this.
 */
export function shellQuote(value: string): string {
  if (value.includes('\0')) throw new Error('a shell word cannot hold a NUL byte');
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
