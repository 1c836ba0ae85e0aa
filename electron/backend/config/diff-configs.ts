import { isDeepStrictEqual } from 'node:util';
import { isPlainRecord } from './config-layer';

export interface ConfigChange {
  /** The key's dotted path. */
  path: string;
  kind: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

/**
 * What changed between two configurations (two install versions, or the same install
 * before and after an edit), key by key, sorted by key so the same pair always gives
 * the same list. Lists are compared whole, as they are merged.
 */
export function diffConfigs(before: unknown, after: unknown): ConfigChange[] {
  const a = leaves(before);
  const b = leaves(after);
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  const changes: ConfigChange[] = [];
  for (const key of keys) {
    if (!a.has(key)) changes.push({ path: key, kind: 'added', after: b.get(key) });
    else if (!b.has(key)) changes.push({ path: key, kind: 'removed', before: a.get(key) });
    else if (!isDeepStrictEqual(a.get(key), b.get(key)))
      changes.push({ path: key, kind: 'changed', before: a.get(key), after: b.get(key) });
  }
  return changes;
}

export function formatChanges(changes: readonly ConfigChange[]): string {
  if (changes.length === 0) return 'no differences';
  return changes
    .map((change) =>
      change.kind === 'added'
        ? `+ ${change.path}: ${JSON.stringify(change.after)}`
        : change.kind === 'removed'
          ? `- ${change.path}: ${JSON.stringify(change.before)}`
          : `~ ${change.path}: ${JSON.stringify(change.before)} -> ${JSON.stringify(change.after)}`,
    )
    .join('\n');
}

function leaves(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (isPlainRecord(value) && (Object.keys(value).length > 0 || prefix === '')) {
    for (const [key, inner] of Object.entries(value)) leaves(inner, prefix ? `${prefix}.${key}` : key, out);
  } else {
    out.set(prefix, value);
  }
  return out;
}
