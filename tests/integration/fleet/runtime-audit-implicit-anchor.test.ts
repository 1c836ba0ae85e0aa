// The implicit anchor of a host's runtime audit log (issue 14, item 6): the control center
// remembers the newest entry it last found intact on each host and checks every later read
// against it. A real runtime installed on a test host, its log read over SSH: the newest lines
// deleted as root on the host (a chain still whole by itself) are AUDIT_HOST_TRUNCATED (exit 14);
// put back and appended to for real, the log passes and the remembered head advances; the newest
// sealed segment and the live file removed are caught the same way; and only an admin's
// accepted reset (audited) takes a cut log as a new start, or a reinstalled runtime's fresh log
// (AUDIT_HOST_RUNTIME_REPLACED until then).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../../electron/backend/store/open-store';
import { startInstallBackend, VAULT_PASSPHRASE, type LabBackend } from '../../support/install-lab';
import { installLabFleet, openLabFleet, type LabFleetHost } from '../../support/lab-fleet';
import { runSutazaiAsync } from '../../support/run-sutazai';
import { setUpSuite } from '../../support/suite-set-up';
import { makeTempDir } from '../../support/temp-dir';
import { useTestLab } from '../../support/test-hosts/use-test-lab';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-runtime-audit-anchor-');
const dataDir = path.join(tmp.path, 'data');
const HOST = 'anchor-host';
const INSTALL = 'anchor';
const env = { SUTAZAI_PASSPHRASE: VAULT_PASSPHRASE };
let fleetHost: LabFleetHost;
let backend: LabBackend;
let hostId = 0;
let installFile = '';

setUpSuite(
  async (defer) => {
    defer(tmp.remove);
    fs.mkdirSync(dataDir, { recursive: true });
    const fleet = await openLabFleet(defer, labRef.lab, { dir: tmp.path, bundleName: 'runtime-audit-anchor', hostNames: [HOST] });
    fleetHost = fleet.hosts[0]!;
    backend = await startInstallBackend(dataDir, { fleetLinks: true });
    defer(() => backend.close());
    // Small segments, none dropped: 4 KiB holds about a dozen entries.
    const installed = await installLabFleet(backend, fleet, {
      install: INSTALL,
      values: { agents: { replicas_per_host: 1 }, runtime: { audit: { max_file_bytes: 4096, keep_files: 50 } } },
    });
    hostId = installed.hostIds[0]!;
    installFile = installed.installFile;
    await scale(3);
  },
  { setUpMs: 400_000, undoMs: 120_000 },
);

const stateDir = () => fleetHost.tree.stateDir;
const liveLog = () => path.join(stateDir(), 'audit.log');
const scale = async (times: number) => {
  for (let i = 0; i < times; i += 1) await backend.api.call('fleet.scale', { hostId, process: 'agent', replicas: 1 });
};
const lineCount = (file: string) => fs.readFileSync(file, 'utf8').trimEnd().split('\n').length;
const sealedSegments = () =>
  fs
    .readdirSync(stateDir())
    .filter((name) => /^audit\.log\.\d+$/.test(name))
    .sort((a, b) => Number(a.slice(10)) - Number(b.slice(10)));
/** What the control center remembers of the host, read from its store as another process would. */
const rememberedRow = () => {
  const store = openStore({ dataDir });
  try {
    return store.db
      .prepare('SELECT seq, hash, verified_by AS verifiedBy, accepted_by AS acceptedBy FROM host_audit_heads WHERE host_id = ?')
      .get(hostId) as { seq: number; hash: string; verifiedBy: string; acceptedBy: string | null } | undefined;
  } finally {
    store.close();
  }
};
/** Runs `command` as root in the host's own namespace (the files are the runtime's). */
const asRootOnHost = async (command: string) => {
  const result = await labRef.lab.exec(fleetHost.host, command);
  expect(result.code, result.stderr).toBe(0);
};
/** Deletes the last `n` lines of the host's live audit.log in place, as root on the host. */
const cutNewestLines = (n: number) =>
  asRootOnHost(
    `set -e; f='${liveLog()}'; lines=$(wc -l < "$f"); head -n $((lines - ${n})) "$f" > "$f.cut"; cat "$f.cut" > "$f"; rm "$f.cut"`,
  );

/** The host's audit files, to put back after a check. */
const saveAuditFiles = () =>
  new Map(
    fs
      .readdirSync(stateDir())
      .filter((name) => name.startsWith('audit.log'))
      .map((name) => [name, fs.readFileSync(path.join(stateDir(), name))]),
  );
const putBack = (saved: Map<string, Buffer>) => {
  for (const [name, bytes] of saved) fs.writeFileSync(path.join(stateDir(), name), bytes, { mode: 0o600 });
};

describe("the newest entry of a host's runtime audit log, remembered as an implicit anchor", () => {
  it('is remembered at the first verify, and the newest lines deleted on the host are then found (exit 14)', async () => {
    const first = await backend.api.call('audit.verifyHost', { host: HOST });
    expect(first.hosts[0]).toMatchObject({ broken: null, remembered: null, rememberedError: null });
    const head = first.hosts[0]!.head!;
    expect(rememberedRow()).toMatchObject({ seq: head.seq, hash: head.hash });

    // Ensure the live file has lines to cut and keeps at least one.
    while (lineCount(liveLog()) < 4) await scale(1);
    const verified = await runSutazaiAsync(['audit', 'verify', '--host', HOST], dataDir, { env });
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/It still holds entry \d+, found intact/);
    const remembered = rememberedRow()!;
    const saved = saveAuditFiles();
    try {
      await cutNewestLines(2);
      const cut = await backend.api.call('audit.verifyHost', { host: HOST });
      expect(cut.hosts[0]!.head!.seq).toBe(remembered.seq - 2);
      expect(cut.hosts[0]).toMatchObject({
        broken: { seq: remembered.seq - 1, kind: 'removed' },
        remembered: { seq: remembered.seq, hash: remembered.hash, standing: 'missing' },
        rememberedError: { code: 'AUDIT_HOST_TRUNCATED' },
      });
      const cli = await runSutazaiAsync(['audit', 'verify', '--host', HOST], dataDir, { env });
      expect(cli.code, cli.stderr).toBe(14);
      expect(cli.stdout).toContain(`${HOST}: the runtime's audit log (${liveLog()}) is NOT as verified before: AUDIT_HOST_TRUNCATED.`);
      expect(cli.stdout).toContain(`Entries ${remembered.seq - 1} to ${remembered.seq} (at least) were cut off the end of the log`);
      expect(cli.stdout).toContain(`sutazai audit accept-reset --host ${HOST} --anchor ${remembered.seq - 2}:`);
      // The Audit page's read says the same, and neither moved the remembered head back.
      const page = await backend.api.call('audit.hostLog', { hostId, limit: 1 });
      expect(page.verification.rememberedError?.code).toBe('AUDIT_HOST_TRUNCATED');
      expect(rememberedRow()).toMatchObject({ seq: remembered.seq, hash: remembered.hash });
    } finally {
      putBack(saved);
    }
  }, 180_000);

  it('passes once the lines are back, and a real append advances the remembered head', async () => {
    const before = rememberedRow()!;
    const back = await backend.api.call('audit.verifyHost', { host: HOST });
    expect(back.hosts[0]).toMatchObject({ broken: null, rememberedError: null, remembered: { seq: before.seq, standing: 'held' } });
    await scale(1);
    const appended = await backend.api.call('audit.verifyHost', { host: HOST });
    expect(appended.hosts[0]).toMatchObject({ broken: null, remembered: { seq: before.seq, standing: 'held' } });
    expect(appended.hosts[0]!.head!.seq).toBeGreaterThan(before.seq);
    expect(rememberedRow()).toMatchObject({ seq: appended.hosts[0]!.head!.seq, hash: appended.hosts[0]!.head!.hash });
  }, 120_000);

  it('finds the newest sealed segment and the live file removed on the host', async () => {
    while (sealedSegments().length < 2) await scale(5);
    await backend.api.call('audit.verifyHost', { host: HOST });
    const remembered = rememberedRow()!;
    const newest = sealedSegments().at(-1)!;
    const saved = saveAuditFiles();
    try {
      await asRootOnHost(`rm -- '${path.join(stateDir(), newest)}' '${liveLog()}'`);
      const cut = await backend.api.call('audit.verifyHost', { host: HOST });
      // What is left is whole by itself; only the remembered head shows what is missing.
      expect(cut.hosts[0]!.head!.seq).toBe(Number(newest.slice(10)) - 1);
      expect(cut.hosts[0]).toMatchObject({
        remembered: { seq: remembered.seq, standing: 'missing' },
        rememberedError: { code: 'AUDIT_HOST_TRUNCATED' },
        broken: { seq: Number(newest.slice(10)), kind: 'removed' },
      });
      const cli = await runSutazaiAsync(['audit', 'verify', '--install', INSTALL], dataDir, { env });
      expect(cli.code, cli.stderr).toBe(14);
    } finally {
      putBack(saved);
    }
    expect((await backend.api.call('audit.verifyHost', { host: HOST })).hosts[0]!.rememberedError).toBeNull();
  }, 180_000);

  it('takes a cut log as a new start only by an admin’s accepted reset, which is audited', async () => {
    while (lineCount(liveLog()) < 3) await scale(1);
    await backend.api.call('audit.verifyHost', { host: HOST });
    const remembered = rememberedRow()!;
    // Nothing to accept while the log holds its head.
    const early = await runSutazaiAsync(
      ['audit', 'accept-reset', '--host', HOST, '--anchor', `${remembered.seq}:${remembered.hash}`],
      dataDir,
      {
        env,
      },
    );
    expect(early.code).not.toBe(0);
    expect(early.stdout + early.stderr).toContain('AUDIT_HOST_RESET_REFUSED');

    await cutNewestLines(1);
    const cut = (await backend.api.call('audit.verifyHost', { host: HOST })).hosts[0]!;
    expect(cut.rememberedError?.code).toBe('AUDIT_HOST_TRUNCATED');
    // A verify again does not take it by itself.
    expect((await backend.api.call('audit.verifyHost', { host: HOST })).hosts[0]!.rememberedError?.code).toBe('AUDIT_HOST_TRUNCATED');

    const anchor = `${cut.head!.seq}:${cut.head!.hash}`;
    const accepted = await runSutazaiAsync(['audit', 'accept-reset', '--host', HOST, '--anchor', anchor], dataDir, { env });
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(accepted.stdout).toContain(`${HOST}: the runtime's audit log is taken as it is now; entry ${cut.head!.seq} ${cut.head!.hash}`);
    expect(accepted.stdout).toContain(`Remembered before: entry ${remembered.seq} ${remembered.hash}`);
    expect(rememberedRow()).toMatchObject({ seq: cut.head!.seq, hash: cut.head!.hash, acceptedBy: expect.stringMatching(/^cli:/) });

    const entries = (await backend.api.call('audit.list', { target: HOST, limit: 5 })).entries;
    expect(entries.find((entry) => entry.method === 'audit.acceptHostReset')).toMatchObject({
      action: 'trust-key',
      outcome: 'ok',
      target: `host ${HOST}, new start entry ${anchor.replace(':', ' ')}`,
    });
    const after = (await backend.api.call('audit.verifyHost', { host: HOST })).hosts[0]!;
    expect(after).toMatchObject({ broken: null, rememberedError: null, remembered: { seq: cut.head!.seq, standing: 'held' } });
    expect(after.remembered?.accepted?.by).toMatch(/^cli:/);
  }, 180_000);

  it('tells a reinstalled runtime apart: its fresh log is AUDIT_HOST_RUNTIME_REPLACED until an admin accepts it', async () => {
    const remembered = rememberedRow()!;
    const uninstalled = await backend.installs.uninstall(installFile);
    expect(uninstalled.hosts.map((h) => [h.host, h.outcome])).toEqual([[HOST, 'removed']]);
    const applied = await backend.installs.apply(installFile);
    expect(applied.hosts.map((h) => [h.host, h.outcome])).toEqual([[HOST, 'installed']]);
    // The uninstall forgot the install, and the new one is another: the head is remembered with the old runtime.
    expect(rememberedRow()).toMatchObject({ seq: remembered.seq, hash: remembered.hash });

    // A call through the new runtime's link (once it is up) gives its fresh log an entry.
    for (let tries = 0; ; tries += 1) {
      const done = await backend.api.call('fleet.scale', { hostId, process: 'agent', replicas: 1 }).then(
        () => true,
        (error: unknown) => {
          if (tries >= 60) throw error;
          return false;
        },
      );
      if (done) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const fresh = (await backend.api.call('audit.verifyHost', { host: HOST })).hosts[0]!;
    expect(fresh.head!.seq).toBeLessThan(remembered.seq);
    expect(fresh).toMatchObject({
      remembered: { seq: remembered.seq, standing: 'replaced', install: INSTALL },
      rememberedError: { code: 'AUDIT_HOST_RUNTIME_REPLACED' },
      broken: { kind: 'removed' },
    });
    const cli = await runSutazaiAsync(['audit', 'verify', '--host', HOST], dataDir, { env });
    expect(cli.code, cli.stderr).toBe(14);
    expect(cli.stdout).toContain('is NOT as verified before: AUDIT_HOST_RUNTIME_REPLACED.');
    expect(cli.stdout).toContain('If the runtime was reinstalled on purpose, an admin accepts its new log');

    const accepted = await backend.api.call('audit.acceptHostReset', { host: HOST, head: fresh.head! });
    expect(accepted.previous).toMatchObject({ seq: remembered.seq, standing: 'replaced' });
    expect((await backend.api.call('audit.verifyHost', { host: HOST })).hosts[0]).toMatchObject({
      broken: null,
      rememberedError: null,
      remembered: { seq: fresh.head!.seq, standing: 'held' },
    });
  }, 400_000);
});
