import type { HostFacts } from '../../../electron/contract';
import { formatBytes } from '../format/bytes';

export type FactChangeField = 'memory' | 'cpuThreads' | 'disks' | 'gpus' | 'osRelease' | 'kernel';

/** One thing that differs between two probes of a host, worded for the history list. */
export interface FactChange {
  field: FactChangeField;
  label: string;
  before: string;
  after: string;
}

const UNKNOWN = 'unknown';

function memoryText(facts: HostFacts): string {
  return facts.memory === null ? UNKNOWN : formatBytes(facts.memory.totalBytes);
}

function threadsText(facts: HostFacts): string {
  return facts.cpu === null ? UNKNOWN : String(facts.cpu.threads);
}

function disksText(facts: HostFacts): string {
  if (facts.disks === null) return UNKNOWN;
  return facts.disks.length === 1 ? '1 disk' : `${facts.disks.length} disks`;
}

/** "none", "1 × NVIDIA A100", "2 × NVIDIA L4, 1 × AMD MI210": count and models both count. */
function gpusText(facts: HostFacts): string {
  if (facts.gpus === null) return UNKNOWN;
  if (facts.gpus.length === 0) return 'none';
  const counts = new Map<string, number>();
  for (const gpu of facts.gpus) {
    const model = gpu.model || gpu.vendor || 'GPU';
    counts.set(model, (counts.get(model) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([model, count]) => `${count} × ${model}`)
    .join(', ');
}

function releaseText(facts: HostFacts): string {
  const { distro, release } = facts.os;
  return [distro, release].filter(Boolean).join(' ') || UNKNOWN;
}

function kernelText(facts: HostFacts): string {
  return facts.os.kernel || UNKNOWN;
}

const FIELDS: Array<{ field: FactChangeField; label: string; text: (facts: HostFacts) => string }> = [
  { field: 'memory', label: 'Memory', text: memoryText },
  { field: 'cpuThreads', label: 'CPU threads', text: threadsText },
  { field: 'disks', label: 'Disks', text: disksText },
  { field: 'gpus', label: 'GPUs', text: gpusText },
  { field: 'osRelease', label: 'OS release', text: releaseText },
  { field: 'kernel', label: 'Kernel', text: kernelText },
];

/**
 * What changed from one probe to the next, in the terms an operator notices (memory,
 * threads, disk count, GPUs, OS release, kernel). Compared as displayed, so a change
 * too small to show (a few bytes of memory) is not reported as one.
 */
export function diffFacts(previous: HostFacts, current: HostFacts): FactChange[] {
  const changes: FactChange[] = [];
  for (const { field, label, text } of FIELDS) {
    const before = text(previous);
    const after = text(current);
    if (before !== after) changes.push({ field, label, before, after });
  }
  return changes;
}

export interface HistoryEntry {
  probedAt: number;
  facts: HostFacts;
  /** Null for the oldest snapshot shown: there is nothing before it to compare with. */
  changes: FactChange[] | null;
}

/**
 * Snapshots newest first (as `hosts.factsHistory` returns them), each with its changes
 * from the one before. Ask for one more snapshot than `limit` so the last shown has a base.
 */
export function historyWithChanges(snapshots: Array<{ probedAt: number; facts: HostFacts }>, limit: number): HistoryEntry[] {
  return snapshots.slice(0, limit).map((snapshot, index) => {
    const older = snapshots[index + 1];
    return { probedAt: snapshot.probedAt, facts: snapshot.facts, changes: older ? diffFacts(older.facts, snapshot.facts) : null };
  });
}
