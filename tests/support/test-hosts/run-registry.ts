import fs from 'node:fs';
import path from 'node:path';
import { newRunId } from './resource-names';

// Which harness runs are alive, shared by every process on the machine. A run writes its
// record before it creates anything, so a system object whose run has no live record is a
// leftover of a crashed run. The records live on /run (tmpfs): after a reboot every run is
// dead, which is true.

export const REGISTRY_DIR = '/run/szt-test-hosts';
const RUNS_DIR = path.join(REGISTRY_DIR, 'runs');
const SUBNETS_DIR = path.join(REGISTRY_DIR, 'subnets');
/** flock(1) target that serialises edits of /etc/passwd, /etc/shells, /etc/sudoers.d between runs. */
export const SYSTEM_FILES_LOCK = path.join(REGISTRY_DIR, 'system-files.lock');

interface RunRecord {
  pid: number;
  /** /proc/<pid>/stat start time, so a recycled pid does not keep a dead run alive. */
  startTime: string;
}

const MAX_ID_TRIES = 20;

/** Picks a run id nobody holds and records this process as its owner. */
export function registerRun(): string {
  fs.mkdirSync(RUNS_DIR, { recursive: true, mode: 0o755 });
  fs.mkdirSync(SUBNETS_DIR, { recursive: true, mode: 0o755 });
  const record: RunRecord = { pid: process.pid, startTime: processStartTime(process.pid) ?? '' };
  for (let i = 0; i < MAX_ID_TRIES; i++) {
    const runId = newRunId();
    if (createExclusive(runRecordPath(runId), JSON.stringify(record))) return runId;
  }
  throw new Error(`test hosts: no free run id after ${MAX_ID_TRIES} tries (is ${RUNS_DIR} full of stale records?)`);
}

export function unregisterRun(runId: string): void {
  fs.rmSync(runRecordPath(runId), { force: true });
}

/** True while the process that registered runId is still running. */
export function isRunAlive(runId: string): boolean {
  let record: RunRecord;
  try {
    record = JSON.parse(fs.readFileSync(runRecordPath(runId), 'utf8')) as RunRecord;
  } catch {
    return false;
  }
  const startTime = processStartTime(record.pid);
  return startTime !== undefined && startTime === record.startTime;
}

/** Run ids that have a record, alive or not. */
export function recordedRunIds(): string[] {
  try {
    return fs
      .readdirSync(RUNS_DIR)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length));
  } catch {
    return [];
  }
}

/** Claims the /24 `subnet` (e.g. 198.18.7.0) for runId; false if another run holds it. */
export function claimSubnet(runId: string, subnet: string): boolean {
  const file = path.join(SUBNETS_DIR, subnet);
  if (createExclusive(file, runId)) return true;
  // A claim whose run died is stale: take it over (the sweeper may not have run yet).
  const holder = readText(file);
  if (holder !== undefined && holder !== runId && !isRunAlive(holder)) {
    fs.rmSync(file, { force: true });
    return createExclusive(file, runId);
  }
  return false;
}

/** Subnets claimed by runId (normally one). */
export function subnetsOf(runId: string): string[] {
  let files: string[];
  try {
    files = fs.readdirSync(SUBNETS_DIR);
  } catch {
    return [];
  }
  return files.filter((f) => !f.endsWith('.staged') && readText(path.join(SUBNETS_DIR, f)) === runId);
}

/** Subnet claims whose holder is not alive. */
export function staleSubnetClaims(): { subnet: string; runId: string }[] {
  let files: string[];
  try {
    files = fs.readdirSync(SUBNETS_DIR);
  } catch {
    return [];
  }
  return files
    .filter((f) => !f.endsWith('.staged'))
    .map((subnet) => ({ subnet, runId: readText(path.join(SUBNETS_DIR, subnet)) ?? '' }))
    .filter((claim) => !isRunAlive(claim.runId));
}

export function releaseSubnet(subnet: string): void {
  fs.rmSync(path.join(SUBNETS_DIR, subnet), { force: true });
}

/** Field 22 of /proc/<pid>/stat; undefined when the process is gone or a zombie. */
export function processStartTime(pid: number): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  if (state === 'Z' || state === 'X') return undefined;
  return fields[19];
}

/**
 * Creates `file` holding `content` unless it exists. Readers never see it empty: the
 * content is written to a private name first and hard-linked into place (link(2) fails
 * on an existing name, atomically).
 */
function createExclusive(file: string, content: string): boolean {
  const staged = `${file}.${process.pid}.staged`;
  fs.writeFileSync(staged, content);
  try {
    fs.linkSync(staged, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    fs.rmSync(staged, { force: true });
  }
}

function runRecordPath(runId: string): string {
  return path.join(RUNS_DIR, `${runId}.json`);
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}
