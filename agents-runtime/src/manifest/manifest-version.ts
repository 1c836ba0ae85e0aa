import { sha256Hex } from '../hash/sha256';

/** The version GetInfo reports for a manifest's text: the control center compares it with what it wrote to know the runtime runs it. */
export function manifestVersionOf(text: string): string {
  return `sha256:${sha256Hex(text).slice(0, 16)}`;
}
