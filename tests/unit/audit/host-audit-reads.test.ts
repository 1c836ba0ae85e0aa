// Reads of a host's runtime audit log by createHostAuditLogs, end to end but for the SSH login:
// the shell handed in runs the control center's real read script with the local sh against a log
// written by the runtime's own appender, and the remembered head lives in a real SQLite store.
// Two reads at once (a slower one finishing after a faster one advanced the head) must not read
// as cut off; a log whose remembered head was dropped unseen can be accepted as a new start.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditFields } from '../../../agents-runtime/src/audit/audit-chain';
import { AUDIT_LOG_FILE, openAuditFile, readAuditSegments, type AuditLimits } from '../../../agents-runtime/src/audit/audit-file';
import { verifyAuditSegments } from '../../../agents-runtime/src/audit/audit-segments';
import type { HostFacts } from '../../../electron/contract';
import { createHostAuditLogs, type HostAuditLogsDeps } from '../../../electron/backend/audit/host-audit-logs';
import type { ExecResult } from '../../../electron/backend/hosts/ssh/ssh-session';
import type { RemoteShell } from '../../../electron/backend/install/remote/remote-shell';
import type { ShellScript } from '../../../electron/backend/install/remote/shell-script';
import { createSecretVault } from '../../../electron/backend/secrets/secret-vault';
import { createHostAuditHeadsRepo, type HostAuditHeadsRepo } from '../../../electron/backend/store/host-audit-heads-repo';
import { createHostKeysRepo } from '../../../electron/backend/store/host-keys-repo';
import { createHostsRepo } from '../../../electron/backend/store/hosts-repo';
import { createInstallsRepo } from '../../../electron/backend/store/installs-repo';
import { openMemoryStore } from '../../support/memory-store';
import { seedRecordedInstalls } from '../../support/recorded-installs';

const HOST = 'db-2';
let root = '';
let db: Database.Database;
let heads: HostAuditHeadsRepo;
let hostId = 0;
const stateDir = () => path.join(root, 'state');
const file = () => path.join(stateDir(), AUDIT_LOG_FILE);

/** A read held until the test lets it finish: `ran` once its script has run; its answer is handed back on `release`. */
interface HeldRead {
  ran: Promise<void>;
  release(): void;
}
let holds: Array<{ ranNow(): void; released: Promise<void> }> = [];

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-host-audit-reads-'));
  fs.mkdirSync(stateDir());
  db = openMemoryStore();
  seedRecordedInstalls(db, [{ name: 'prod', hosts: [{ name: HOST, address: '198.18.0.2', state: 'installed' }] }]);
  const installs = createInstallsRepo(db);
  const install = installs.findByName('prod')!;
  hostId = installs.hosts(install.id)[0]!.hostId;
  installs.setPlacement(install.id, hostId, { mode: 'user', rootDir: root, service: 'detached' }, 8);
  heads = createHostAuditHeadsRepo(db);
  holds = [];
});
afterEach(() => {
  db.close();
  fs.rmSync(root, { recursive: true, force: true });
});

/** The login is the one thing not real: each read runs the script here, and answers when its hold (if any) is released. */
function logs() {
  const deps: HostAuditLogsDeps = {
    hosts: createHostsRepo(db),
    hostKeys: createHostKeysRepo(db),
    vault: createSecretVault(db),
    installs: createInstallsRepo(db),
    heads,
    factsOf: async () => ({}) as HostFacts,
    now: () => 1_800_000_000_000,
    openShell: async () => {
      const shell: Pick<RemoteShell, 'run'> = {
        run: (script: ShellScript) => {
          const hold = holds.shift();
          return new Promise<ExecResult>((resolve) => {
            execFile('sh', ['-c', script.text], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
              const result = { code: error ? Number(error.code ?? 1) : 0, signal: null, stdout, stderr };
              if (hold === undefined) return resolve(result);
              hold.ranNow();
              void hold.released.then(() => resolve(result));
            });
          });
        },
      };
      return { session: { close: () => undefined } as never, shell: shell as RemoteShell, privilege: 'none' as const };
    },
  };
  return createHostAuditLogs(deps);
}

/** The next read runs its script at once but hands its answer back only when released. */
function holdNextRead(): HeldRead {
  let ranNow!: () => void;
  let release!: () => void;
  const ran = new Promise<void>((resolve) => (ranNow = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  holds.push({ ranNow, released });
  return { ran, release };
}

const call = (i: number): AuditFields => ({
  atMs: 1_700_000_000_000 + i,
  operator: 'alice',
  actor: 'certificate:operator',
  peer: '127.0.0.1:5000',
  action: 'control',
  method: 'RestartProcess',
  target: `process agent-${i}`,
  outcome: 'ok',
});
const ONE_FILE: AuditLimits = { maxFileBytes: 64 * 1024 * 1024, keepFiles: 6 };
const SMALL: AuditLimits = { maxFileBytes: 4096, keepFiles: 2 };

function append(count: number, limits: AuditLimits, from: number): void {
  const log = openAuditFile(file(), limits);
  try {
    for (let i = from; i < from + count; i += 1) log.append(call(i));
  } finally {
    log.close();
  }
}

const newest = () => verifyAuditSegments(readAuditSegments(file())).head!;

describe('reads of a host’s runtime audit log', () => {
  it('two at once: the slower read, of a log the faster one saw grow since, is not reported cut off, and the head stays the newer one', async () => {
    append(8, ONE_FILE, 1);
    const hostLogs = logs();
    await hostLogs.verify({ host: HOST }, 'alice (desktop)');
    expect(heads.get(hostId)?.seq).toBe(8);

    append(2, ONE_FILE, 9);
    // Read A: reads entries 1 to 10 now, answers late.
    const holdA = holdNextRead();
    const readA = hostLogs.verify({ host: HOST }, 'alice (desktop)');
    await holdA.ran;
    append(2, ONE_FILE, 11);
    // Read B: begins after A read the files and finishes first, advancing the head to 12.
    const readB = await hostLogs.verify({ host: HOST }, 'bob (web)');
    expect(readB.hosts[0]).toMatchObject({ broken: null, rememberedError: null, head: { seq: 12 } });
    expect(heads.get(hostId)?.seq).toBe(12);

    holdA.release();
    const a = (await readA).hosts[0]!;
    expect(a.head?.seq).toBe(10);
    expect(a.rememberedError).toBeNull();
    expect(a.broken).toBeNull();
    expect(a.remembered).toMatchObject({ seq: 8, standing: 'held' });
    // Never moved back by the slower read.
    expect(heads.get(hostId)).toMatchObject({ seq: 12, verifiedBy: 'bob (web)' });
  });

  it('two at once still finds a cut: the slower read of a log cut below the head it began with is reported', async () => {
    append(8, ONE_FILE, 1);
    const hostLogs = logs();
    await hostLogs.verify({ host: HOST }, 'alice (desktop)');
    // Entries 6 to 8 cut off; a read of that runs while another advances nothing (it finds the cut too).
    const lines = fs.readFileSync(file(), 'utf8').trimEnd().split('\n');
    fs.writeFileSync(
      file(),
      lines
        .slice(0, 5)
        .map((line) => `${line}\n`)
        .join(''),
    );
    const holdA = holdNextRead();
    const readA = hostLogs.verify({ host: HOST }, 'alice (desktop)');
    await holdA.ran;
    expect((await hostLogs.verify({ host: HOST }, 'bob (web)')).hosts[0]?.rememberedError?.code).toBe('AUDIT_HOST_TRUNCATED');
    holdA.release();
    expect((await readA).hosts[0]?.rememberedError?.code).toBe('AUDIT_HOST_TRUNCATED');
    expect(heads.get(hostId)?.seq).toBe(8);
  });

  it('a log whose remembered head was dropped with entries never seen here is broken, and an admin can accept it as a new start', async () => {
    append(20, SMALL, 1);
    const hostLogs = logs();
    await hostLogs.verify({ host: HOST }, 'alice (desktop)');
    const remembered = heads.get(hostId)!.seq;
    append(80, SMALL, 21);
    const read = (await hostLogs.verify({ host: HOST }, 'alice (desktop)')).hosts[0]!;
    expect(read.kept!.firstSeq).toBeGreaterThan(remembered + 1);
    expect(read.rememberedError?.code).toBe('AUDIT_HOST_UNSEEN_DROPPED');
    expect(read.remembered).toMatchObject({ seq: remembered, standing: 'dropped-unseen' });
    const head = newest();
    const accepted = await hostLogs.acceptReset({ host: HOST, head: { seq: head.seq, hash: head.hash } }, 'root-admin (cli:ops)');
    expect(accepted).toMatchObject({ previous: { seq: remembered, standing: 'dropped-unseen' }, head: { seq: head.seq } });
    expect(heads.get(hostId)).toMatchObject({ seq: head.seq, acceptedBy: 'root-admin (cli:ops)' });
    append(1, SMALL, 500);
    expect((await hostLogs.verify({ host: HOST }, 'alice (desktop)')).hosts[0]).toMatchObject({ broken: null, rememberedError: null });
  });
});
