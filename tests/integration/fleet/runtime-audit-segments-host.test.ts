// A real runtime's audit log in segments (issue 14, item 6), read from its test host over SSH:
// with `runtime.audit` set small in the install's configuration the runtime seals its audit.log
// as audit.log.<first seq> and drops the oldest past keep_files after an entry saying so;
// `audit verify --host` reads every segment and says where the kept chain starts, and names a
// whole middle segment removed, an oldest one removed without its drop recorded and an entry
// edited in a sealed segment; `audit.hostLog` (the Audit page) pages and filters the entries.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startInstallBackend, VAULT_PASSPHRASE, type LabBackend } from '../../support/install-lab';
import { installLabFleet, openLabFleet } from '../../support/lab-fleet';
import type { HostTree } from '../../support/release-lab';
import { runSutazaiAsync } from '../../support/run-sutazai';
import { setUpSuite } from '../../support/suite-set-up';
import { makeTempDir } from '../../support/temp-dir';
import { useTestLab } from '../../support/test-hosts/use-test-lab';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-runtime-audit-segments-');
const dataDir = path.join(tmp.path, 'data');
const HOST = 'seg-host';
const INSTALL = 'seg';
const env = { SUTAZAI_PASSPHRASE: VAULT_PASSPHRASE };
let tree: HostTree;
let backend: LabBackend;
let hostId = 0;

setUpSuite(
  async (defer) => {
    defer(tmp.remove);
    fs.mkdirSync(dataDir, { recursive: true });
    const fleet = await openLabFleet(defer, labRef.lab, { dir: tmp.path, bundleName: 'runtime-audit-segments', hostNames: [HOST] });
    ({ tree } = fleet.hosts[0]!);
    backend = await startInstallBackend(dataDir, { fleetLinks: true });
    defer(() => backend.close());
    const installed = await installLabFleet(backend, fleet, {
      install: INSTALL,
      values: { agents: { replicas_per_host: 1 }, runtime: { audit: { max_file_bytes: 4096, keep_files: 2 } } },
    });
    hostId = installed.hostIds[0]!;
    // About 330 bytes an entry: 4 KiB holds a dozen; 45 calls seal several segments and drop the oldest.
    for (let i = 0; i < 45; i += 1) await backend.api.call('fleet.scale', { hostId, process: 'agent', replicas: 1 });
  },
  { setUpMs: 400_000, undoMs: 120_000 },
);

const segmentFiles = () =>
  fs
    .readdirSync(tree.stateDir)
    .filter((name) => /^audit\.log\.\d+$/.test(name))
    .sort((a, b) => Number(a.slice(10)) - Number(b.slice(10)));
const rowsOf = (name: string) =>
  fs
    .readFileSync(path.join(tree.stateDir, name), 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as { seq: number; hash: string; prevHash: string; method: string; target: string | null });

/** Runs `change` on the host's files and puts them back after `check`, whatever it found. */
async function tampered(change: () => void, check: () => Promise<void>): Promise<void> {
  const saved = new Map(
    fs
      .readdirSync(tree.stateDir)
      .filter((n) => n.startsWith('audit.log'))
      .map((n) => [n, fs.readFileSync(path.join(tree.stateDir, n))]),
  );
  try {
    change();
    await check();
  } finally {
    for (const [name, bytes] of saved) fs.writeFileSync(path.join(tree.stateDir, name), bytes, { mode: 0o600 });
  }
}

describe("a runtime's audit log in segments, from the control center", () => {
  it('is sealed past its cap, the oldest dropped after an entry saying so, and verified whole across segments', async () => {
    const sealed = segmentFiles();
    expect(sealed).toHaveLength(2);
    const all = [...sealed, 'audit.log'].flatMap(rowsOf);
    const drops = all.filter((row) => row.method === 'DropAuditSegment');
    expect(drops.length).toBeGreaterThan(0);
    expect(drops[0]!.target).toMatch(/^entries 1 to \d+ dropped \(audit\.log\.1\), last hash [0-9a-f]{64}$/);
    const first = rowsOf(sealed[0]!)[0]!;

    const result = await backend.api.call('audit.verifyHost', { host: HOST });
    expect(result.hosts[0]).toMatchObject({
      host: HOST,
      broken: null,
      segments: 3,
      entries: all.length,
      head: { seq: all.at(-1)!.seq, hash: all.at(-1)!.hash },
      kept: { firstSeq: first.seq, prevHash: first.prevHash, anchorDropped: false },
    });

    const cli = await runSutazaiAsync(['audit', 'verify', '--host', HOST], dataDir, { env });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(`and 2 sealed segments) is as appended: ${all.length} entries`);
    expect(cli.stdout).toContain(`The kept chain starts at entry ${first.seq}`);
  }, 120_000);

  it('pages and filters the entries for the Audit page, newest first, with the verification', async () => {
    const page = await backend.api.call('audit.hostLog', { hostId, limit: 5 });
    expect(page.verification).toMatchObject({ host: HOST, broken: null, segments: 3 });
    expect(page.entries).toHaveLength(5);
    expect(page.entries.map((e) => e.seq)).toEqual([...page.entries.map((e) => e.seq)].sort((a, b) => b - a));
    expect(page.next).toBe(page.entries.at(-1)!.seq);
    const older = await backend.api.call('audit.hostLog', { hostId, limit: 5, before: page.next! });
    expect(older.entries[0]!.seq).toBeLessThan(page.next!);

    const scales = await backend.api.call('audit.hostLog', { hostId, action: 'scale', outcome: 'ok', limit: 1000 });
    expect(scales.entries.length).toBeGreaterThan(20);
    expect(scales.entries.every((e) => e.method === 'ScaleProcess' && e.target === 'process agent, replicas 1')).toBe(true);
    expect(scales.matched).toBe(scales.entries.length);
    const drops = await backend.api.call('audit.hostLog', { hostId, target: 'dropped' });
    expect(drops.entries.length).toBeGreaterThan(0);
    expect(drops.entries.every((e) => e.actor === 'runtime' && e.method === 'DropAuditSegment')).toBe(true);
  }, 120_000);

  it('names a whole middle segment removed, an oldest one removed with no drop recorded, and an entry edited in a sealed one', async () => {
    const [oldest, middle] = segmentFiles() as [string, string];
    const middleRows = rowsOf(middle);
    await tampered(
      () => fs.rmSync(path.join(tree.stateDir, middle)),
      async () => {
        const result = await backend.api.call('audit.verifyHost', { host: HOST });
        expect(result.hosts[0]!.broken).toMatchObject({ seq: middleRows[0]!.seq, kind: 'removed' });
        const cli = await runSutazaiAsync(['audit', 'verify', '--host', HOST], dataDir, { env });
        expect(cli.code, cli.stderr).toBe(14);
        expect(cli.stdout).toContain(`Entries ${middleRows[0]!.seq} to ${middleRows.at(-1)!.seq} were removed`);
      },
    );
    const oldestRows = rowsOf(oldest);
    await tampered(
      () => fs.rmSync(path.join(tree.stateDir, oldest)),
      async () => {
        const result = await backend.api.call('audit.verifyHost', { host: HOST });
        expect(result.hosts[0]!.broken).toMatchObject({ kind: 'removed' });
        expect(result.hosts[0]!.broken!.message).toContain(
          `to ${oldestRows.at(-1)!.seq} were removed: the oldest segment kept starts at entry ${middleRows[0]!.seq}`,
        );
      },
    );
    await tampered(
      () => {
        const lines = fs.readFileSync(path.join(tree.stateDir, oldest), 'utf8').trimEnd().split('\n');
        lines[1] = lines[1]!.replace('replicas 1', 'replicas 9');
        fs.writeFileSync(path.join(tree.stateDir, oldest), `${lines.join('\n')}\n`);
      },
      async () => {
        const page = await backend.api.call('audit.hostLog', { hostId, limit: 1 });
        expect(page.verification.broken).toMatchObject({ seq: oldestRows[1]!.seq, kind: 'edited' });
      },
    );
    expect((await backend.api.call('audit.verifyHost', { host: HOST })).hosts[0]!.broken).toBeNull();
  }, 180_000);

  it('refuses a host that is not installed with its code', async () => {
    await expect(backend.api.call('audit.hostLog', { hostId: 987_654 })).rejects.toMatchObject({ code: 'HOST_NOT_FOUND' });
  });
});
