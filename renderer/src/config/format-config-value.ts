/**
 * A configuration value as `sutazai config show` prints it: JSON, so a text that looks
 * like a number ("7600") can be told from the number (7600).
 */
export function formatConfigValue(value: unknown): string {
  if (value === undefined) return '(not set)';
  return JSON.stringify(value) ?? String(value);
}
