import type { Manifest, ProcessSpec } from './manifest-schema';

/** A process whose settings differ: its instances are stopped and started on the new ones. */
export interface ChangedProcess {
  name: string;
  /** The manifest fields that differ, in the spec's order (`env`, `args`, `stop`...). */
  fields: string[];
}

/** A process whose settings are the same but whose replica count is not: its running instances stay, the count is scaled. */
export interface ScaledProcess {
  name: string;
  from: number;
  to: number;
}

/**
 * What applying `next` over `old` does to each process. The runtime's UpdateManifest acts
 * on it (unchanged and scaled processes keep their running instances and pids), and the
 * control center's plan reads the same answer to say which processes an apply restarts.
 */
export interface ManifestDiff {
  unchanged: string[];
  scaled: ScaledProcess[];
  changed: ChangedProcess[];
  added: string[];
  removed: string[];
}

export function diffManifests(old: Manifest, next: Manifest): ManifestDiff {
  const before = new Map(old.processes.map((p) => [p.name, p]));
  const diff: ManifestDiff = { unchanged: [], scaled: [], changed: [], added: [], removed: [] };
  for (const spec of next.processes) {
    const was = before.get(spec.name);
    if (was === undefined) {
      diff.added.push(spec.name);
      continue;
    }
    const fields = changedFields(was, spec);
    if (fields.length > 0) diff.changed.push({ name: spec.name, fields });
    else if (was.replicas !== spec.replicas) diff.scaled.push({ name: spec.name, from: was.replicas, to: spec.replicas });
    else diff.unchanged.push(spec.name);
  }
  const names = new Set(next.processes.map((p) => p.name));
  diff.removed = old.processes.filter((p) => !names.has(p.name)).map((p) => p.name);
  return diff;
}

/** Every field but the replica count, compared by value (a parsed spec holds only plain data). */
function changedFields(was: ProcessSpec, spec: ProcessSpec): string[] {
  const keys = [...new Set([...Object.keys(spec), ...Object.keys(was)])] as Array<keyof ProcessSpec>;
  return keys.filter((key) => key !== 'replicas' && canonical(was[key]) !== canonical(spec[key]));
}

/** JSON with object keys sorted, so two specs equal in value compare equal whatever order their fields were read in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
