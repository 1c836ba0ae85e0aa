// `sutazai audit verify --host|--install` (issue 14, item 6): the control center reads a real
// runtime's own audit log from its test host over SSH (pinned key, root login) and verifies it
// with the runtime's verifier: as appended after real state-changing calls, then an entry
// edited on the host is named, and a hostile line (terminal escapes) never reaches the terminal.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_HOST_AUDIT_LOG_BYTES } from '../../../electron/contract';
import { startInstallBackend, VAULT_PASSPHRASE, type LabBackend } from '../../support/install-lab';
import { installLabFleet, openLabFleet } from '../../support/lab-fleet';
import type { HostTree } from '../../support/release-lab';
import { runSutazaiAsync } from '../../support/run-sutazai';
import { setUpSuite } from '../../support/suite-set-up';
import { makeTempDir } from '../../support/temp-dir';
import { useTestLab } from '../../support/test-hosts/use-test-lab';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-runtime-audit-host-');
const dataDir = path.join(tmp.path, 'data');
const HOST = 'aud-host';
const INSTALL = 'aud';
const env = { SUTAZAI_PASSPHRASE: VAULT_PASSPHRASE };
let tree: HostTree;
let backend: LabBackend;
let hostId = 0;

setUpSuite(
  async (defer) => {
    defer(tmp.remove);
    fs.mkdirSync(dataDir, { recursive: true });
    const fleet = await openLabFleet(defer, labRef.lab, { dir: tmp.path, bundleName: 'runtime-audit-host', hostNames: [HOST] });
    ({ tree } = fleet.hosts[0]!);
    backend = await startInstallBackend(dataDir, { fleetLinks: true });
    defer(() => backend.close());
    const installed = await installLabFleet(backend, fleet, { install: INSTALL, values: { agents: { replicas_per_host: 1 } } });
    hostId = installed.hostIds[0]!;
  },
  { setUpMs: 300_000, undoMs: 120_000 },
);

const logFile = () => path.join(tree.stateDir, 'audit.log');

describe("a runtime's own audit log, verified from the control center", () => {
  it('is as appended after state-changing calls, with the same head the file holds', async () => {
    await backend.api.call('fleet.scale', { hostId, process: 'agent', replicas: 2 });
    // The scale's entry: the newest ScaleProcess (the link's own audited calls may follow it at any time).
    const lines = fs.readFileSync(logFile(), 'utf8').trim().split('\n');
    const scales = lines
      .map((line) => JSON.parse(line) as { seq: number; hash: string; method: string; outcome: string })
      .filter((entry) => entry.method === 'ScaleProcess');
    const newest = scales.at(-1)!;
    expect(newest).toMatchObject({ method: 'ScaleProcess', outcome: 'ok' });

    // The runtime may append more while this reads (the link's own calls are audited too, and on
    // a loaded machine its pushes land late): what the verify saw must be a prefix of the file,
    // read after it, that ends at its head and holds the scale.
    const prefixOf = (head: { seq: number; hash: string }) => {
      const after = fs.readFileSync(logFile(), 'utf8').trim().split('\n');
      const at = after.findIndex((line) => (JSON.parse(line) as { seq: number }).seq === head.seq);
      expect(at, `seq ${head.seq} in the file`).toBeGreaterThanOrEqual(0);
      expect((JSON.parse(after[at]!) as { hash: string }).hash).toBe(head.hash);
      expect(head.seq).toBeGreaterThanOrEqual(newest.seq);
      const kept = after.slice(0, at + 1);
      return { entries: kept.length, bytes: Buffer.byteLength(`${kept.join('\n')}\n`) };
    };

    const result = await backend.api.call('audit.verifyHost', { host: HOST });
    expect(result.hosts).toHaveLength(1);
    expect(result.hosts[0]).toMatchObject({ host: HOST, file: logFile(), broken: null });
    const seen = prefixOf(result.hosts[0]!.head!);
    expect(result.hosts[0]!.entries).toBe(seen.entries);
    expect(result.hosts[0]!.bytes).toBe(seen.bytes);

    const anchored = await backend.api.call('audit.verifyHost', { host: HOST, anchor: { seq: newest.seq, hash: newest.hash } });
    expect(anchored.hosts[0]!.broken).toBeNull();

    const cli = await runSutazaiAsync(['audit', 'verify', '--install', INSTALL], dataDir, { env });
    expect(cli.code, cli.stderr).toBe(0);
    const told = new RegExp(
      `${HOST}: the runtime's audit log \\(${logFile().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\) is as appended: (\\d+) entries`,
    ).exec(cli.stdout);
    const head = /Newest entry: (\d+) ([0-9a-f]{64})/.exec(cli.stdout);
    expect(told, cli.stdout).not.toBeNull();
    expect(head, cli.stdout).not.toBeNull();
    expect(Number(told![1])).toBe(prefixOf({ seq: Number(head![1]), hash: head![2]! }).entries);
  }, 120_000);

  it('names an entry edited on the host (exit 14), and a hostile line never reaches the terminal raw', async () => {
    const original = fs.readFileSync(logFile(), 'utf8');
    const lines = original.trim().split('\n');
    const first = JSON.parse(lines[0]!) as { outcome: string };
    lines[0] = JSON.stringify({ ...first, outcome: first.outcome === 'ok' ? 'ACCESS_DENIED' : 'ok' });
    fs.writeFileSync(logFile(), `${lines.join('\n')}\n`);

    const edited = await backend.api.call('audit.verifyHost', { host: HOST });
    expect(edited.hosts[0]!.broken).toMatchObject({ seq: 1, kind: 'edited' });
    const cli = await runSutazaiAsync(['audit', 'verify', '--host', HOST, '--json'], dataDir, { env });
    expect(cli.code, cli.stderr).toBe(14);
    expect((JSON.parse(cli.stdout) as { hosts: Array<{ broken: { seq: number; kind: string } }> }).hosts[0]!.broken).toMatchObject({
      seq: 1,
      kind: 'edited',
    });

    // A line of escape sequences (a title change, a colour) in place of the second entry.
    lines[0] = JSON.stringify(first);
    lines[1] = '\u001b]0;owned\u0007\u001b[31m{"seq":2}\u009b2J';
    fs.writeFileSync(logFile(), `${lines.join('\n')}\n`);
    const hostile = await runSutazaiAsync(['audit', 'verify', '--host', HOST], dataDir, { env });
    expect(hostile.code, hostile.stderr).toBe(14);
    expect(hostile.stdout).toContain(`${HOST}: the runtime's audit log (${logFile()}) is NOT as appended: edited at entry 2.`);
    expect(hostile.stdout).toContain('Line 2 of audit.log is not an entry');
    for (const raw of ['\u001b', '\u0007', '\u009b']) expect(hostile.stdout + hostile.stderr).not.toContain(raw);

    fs.writeFileSync(logFile(), original);
    expect((await backend.api.call('audit.verifyHost', { host: HOST })).hosts[0]!.broken).toBeNull();
  }, 120_000);

  it('refuses a log larger than it reads, before reading it, with its code', async () => {
    const original = fs.readFileSync(logFile(), 'utf8');
    fs.appendFileSync(logFile(), `${'x'.repeat(MAX_HOST_AUDIT_LOG_BYTES)}\n`);
    try {
      await expect(backend.api.call('audit.verifyHost', { host: HOST })).rejects.toMatchObject({ code: 'AUDIT_HOST_LOG_TOO_LARGE' });
    } finally {
      fs.writeFileSync(logFile(), original);
    }
  }, 60_000);

  it('refuses a host in no install and a call naming neither a host nor an install, each with its code', async () => {
    await expect(backend.api.call('audit.verifyHost', { host: 'no-such-host' })).rejects.toMatchObject({ code: 'HOST_NOT_FOUND' });
    await expect(backend.api.call('audit.verifyHost', {})).rejects.toMatchObject({ code: 'BAD_PARAMS' });
    await expect(
      backend.api.call('audit.verifyHost', { install: INSTALL, anchor: { seq: 1, hash: '0'.repeat(64) } }),
    ).rejects.toMatchObject({ code: 'BAD_PARAMS' });
  });
});
