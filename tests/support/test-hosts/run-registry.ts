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
  const record = readRecord(runRecordPath(runId));
  return record !== undefined && isRecordAlive(record);
}

function isRecordAlive(record: RunRecord): boolean {
  const startTime = processStartTime(record.pid);
  return startTime !== undefined && startTime === record.startTime;
}

function readRecord(file: string): RunRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as RunRecord;
  } catch {
    return undefined;
  }
}

/**
 * Claims the right to tear down runId's leftovers: a hold file naming this process. A dead
 * run is swept by whoever holds it, so two processes creating labs at once never sweep the
 * same run together (the second would fail on objects the first had just removed, and fail
 * its own lab's set-up), and a test that kills a lab's owner on purpose can hold the run
 * until it has looked at what was left. True when this process holds it now (it already
 * did, it was free, or its holder is dead).
 */
export function holdRun(runId: string): boolean {
  const file = holdPath(runId);
  const record = JSON.stringify({ pid: process.pid, startTime: processStartTime(process.pid) ?? '' } satisfies RunRecord);
  for (let attempt = 0; attempt < 2; attempt++) {
    if (createExclusive(file, record)) return true;
    const holder = readRecord(file);
    if (holder === undefined) continue; // released between our tries
    if (holder.pid === process.pid) return true;
    if (isRecordAlive(holder)) return false;
    fs.rmSync(file, { force: true }); // its holder died mid-sweep: take it over
  }
  return false;
}

/**
 * Hands this process's hold on runId to another live process (pid), with no moment in
 * which the run is free: the record is replaced by rename. False when we do not hold it.
 */
export function passHold(runId: string, pid: number): boolean {
  const file = holdPath(runId);
  if (readRecord(file)?.pid !== process.pid) return false;
  const staged = `${file}.${process.pid}.staged`;
  fs.writeFileSync(staged, JSON.stringify({ pid, startTime: processStartTime(pid) ?? '' } satisfies RunRecord));
  fs.renameSync(staged, file);
  return true;
}

export function releaseRun(runId: string): void {
  const holder = readRecord(holdPath(runId));
  if (holder?.pid === process.pid) fs.rmSync(holdPath(runId), { force: true });
}

/** Hold files whose holder is dead and whose run has nothing left to sweep. */
export function removeStaleHolds(): void {
  let files: string[];
  try {
    files = fs.readdirSync(RUNS_DIR);
  } catch {
    return;
  }
  for (const file of files.filter((f) => f.endsWith('.hold'))) {
    const holder = readRecord(path.join(RUNS_DIR, file));
    if (holder === undefined || !isRecordAlive(holder)) fs.rmSync(path.join(RUNS_DIR, file), { force: true });
  }
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

function holdPath(runId: string): string {
  return path.join(RUNS_DIR, `${runId}.hold`);
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
