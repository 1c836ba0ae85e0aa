import { createHash } from 'node:crypto';

/** The version GetInfo reports for a manifest's text: the control center compares it with what it wrote to know the runtime runs it. */
export function manifestVersionOf(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}
