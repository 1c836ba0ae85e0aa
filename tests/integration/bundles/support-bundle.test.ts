// Support bundles from a real test install (issue 15, item 4): SutazAI installed on a test
// host (root, its own network namespace, OpenSSH), the real runtime with its core and agents,
// the fleet's links on. Passwords, tokens and a private key are planted in an agent's log
// file, which the runtime serves; a second agent is made to crash-loop for real, failing in
// the program itself: agents.base_port is 65535, so replica 2 would listen on 65536, and the
// agent writes why and exits 1 each time it starts. The bundle holds none of the planted
// secrets, the preview lists each, and the analyzers (app and CLI) find the loop and quote
// the agent's own last line.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FleetProcessTable, SupportPreview } from '../../../electron/contract';
import { startInstallBackend, VAULT_PASSPHRASE, type LabBackend } from '../../support/install-lab';
import { installLabFleet, openLabFleet } from '../../support/lab-fleet';
import type { HostTree } from '../../support/release-lab';
import { runSutazaiAsync } from '../../support/run-sutazai';
import { setUpSuite } from '../../support/suite-set-up';
import { makeTempDir } from '../../support/temp-dir';
import { useTestLab } from '../../support/test-hosts/use-test-lab';
import { makeWaitFor } from '../../support/wait-for';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-support-bundle-');
const dataDir = path.join(tmp.path, 'data');
const HOST = 'sup-host';
const INSTALL = 'sup';
/**
 * agents.base_port: agent-1 serves its health on it; agent-2 (added by a scale) would need the
 * next port, past 65535, which the agent refuses at start (agents-runtime/programs/agent/config.ts).
 * Its port is never taken by anything else, so the runtime starts it each time (no HEALTH_TARGET_IN_USE).
 */
const AGENT_BASE_PORT = 65535;
const waitFor = makeWaitFor({ timeoutMs: 180_000, pollMs: 500 });
let tree: HostTree;
let backend: LabBackend;
let hostId = 0;

const PLANTED = {
  password: 'Tr0ub4dor-and-3-planted',
  token: 'tok_planted_7c1e9a5d3b',
  bearer: 'plantedBearerValue.abcdef123456',
  keyBody: 'PlantedPrivateKeyMaterialAAAABBBBCCCCDDDD',
};
const plantedLines = [
  `connecting with db_password=${PLANTED.password}`,
  `{"level":"info","msg":"auth","api_token":"${PLANTED.token}"}`,
  `GET /v1/jobs Authorization: Bearer ${PLANTED.bearer}`,
  '-----BEGIN PRIVATE KEY-----',
  PLANTED.keyBody,
  '-----END PRIVATE KEY-----',
  'an ordinary line after the key',
];

setUpSuite(
  async (defer) => {
    defer(tmp.remove);
    fs.mkdirSync(dataDir, { recursive: true });
    const fleet = await openLabFleet(defer, labRef.lab, { dir: tmp.path, bundleName: 'support-bundle', hostNames: [HOST] });
    ({ tree } = fleet.hosts[0]!);
    backend = await startInstallBackend(dataDir, { fleetLinks: true });
    defer(() => backend.close());
    const installed = await installLabFleet(backend, fleet, {
      install: INSTALL,
      values: { agents: { replicas_per_host: 1, base_port: AGENT_BASE_PORT } },
    });
    hostId = installed.hostIds[0]!;
    // The secrets in agent-1's log, as the runtime's stamper writes its lines.
    const stamp = new Date().toISOString();
    fs.appendFileSync(path.join(tree.logDir, 'agent-1.log'), plantedLines.map((line) => `${stamp} out ${line}\n`).join(''));
  },
  { setUpMs: 300_000, undoMs: 120_000 },
);

const table = (): Promise<FleetProcessTable> => backend.api.call('fleet.processes', { hostId });

let preview: SupportPreview;
const bundleFile = path.join(tmp.path, 'sup-support.tar');

describe('a support bundle of a real install', () => {
  it('sees agent-2 crash-loop on the host (the agent refuses its port past 65535), through the runtime and its events', async () => {
    await backend.api.call('fleet.scale', { hostId, process: 'agent', replicas: 2 });
    await waitFor('agent-2 in crash-loop', async () => {
      const agent = (await table()).processes.find((p) => p.name === 'agent');
      return agent?.instances.find((i) => i.instance === 'agent-2')?.state === 'crash-loop';
    });
    await waitFor('the crash-loop event stored', async () => {
      const page = await backend.api.call('events.list', { hostId, kinds: ['process.crash-loop'] });
      return page.events.some((e) => e.instance === 'agent-2');
    });
    // The program ran and said why it stopped (the runtime did not refuse to start it).
    const page = await backend.api.call('events.list', { hostId, kinds: ['process.crash-loop'] });
    expect(page.events.find((e) => e.instance === 'agent-2')?.lastLines.join('\n')).toContain('65536');
  }, 240_000);

  it('previews every planted secret (file, line, rule, masked) and the parts it collected', async () => {
    preview = await backend.api.call('support.collect', { target: { install: INSTALL } });
    expect(preview.targetName).toBe(INSTALL);
    expect(preview.gaps).toEqual([]);
    const paths = preview.files.map((f) => f.path);
    for (const expected of [
      'install/definition.json',
      `hosts/${HOST}/host.json`,
      `hosts/${HOST}/facts.json`,
      `hosts/${HOST}/preflight.json`,
      `hosts/${HOST}/events.json`,
      `hosts/${HOST}/alerts.json`,
      `hosts/${HOST}/config.json`,
      `hosts/${HOST}/runtime/info.json`,
      `hosts/${HOST}/runtime/processes.json`,
      `hosts/${HOST}/runtime/logs/core.log`,
      `hosts/${HOST}/runtime/logs/agent-1.log`,
      `hosts/${HOST}/runtime/logs/agent-2.log`,
      'control-center/control-center.log',
      'versions.json',
    ])
      expect(paths).toContain(expected);
    const inAgentLog = preview.redactions.filter((r) => r.file === `hosts/${HOST}/runtime/logs/agent-1.log`);
    expect(inAgentLog.map((r) => r.rule)).toEqual(['built-in:password', 'built-in:password', 'built-in:token', 'built-in:private-key']);
    // Consecutive lines, in the order planted (the key's block starts on its BEGIN line).
    const lines = inAgentLog.map((r) => r.line);
    expect(lines.slice(1)).toEqual([lines[0]! + 1, lines[0]! + 2, lines[0]! + 3]);
    for (const redaction of preview.redactions)
      for (const secret of Object.values(PLANTED)) expect(redaction.masked).not.toContain(secret.slice(0, 4));
  }, 120_000);

  it('writes an archive that holds none of them, with a manifest, the layers of the configuration and the crash-loop', async () => {
    const saved = await backend.api.call('support.save', { previewId: preview.previewId, redaction: {}, path: bundleFile });
    expect(saved).toMatchObject({ path: bundleFile, files: preview.files.length, redactions: preview.redactions.length });
    const bytes = fs.readFileSync(bundleFile);
    expect(saved.bytes).toBe(bytes.length);
    for (const secret of Object.values(PLANTED)) expect(bytes.includes(secret)).toBe(false);
    expect(bytes.includes('an ordinary line after the key')).toBe(true);
    const listed = execFileSync('tar', ['-tf', bundleFile], { encoding: 'utf8' }).trim().split('\n');
    expect(listed[0]).toBe('manifest.json');
    const config = JSON.parse(execFileSync('tar', ['-xOf', bundleFile, `hosts/${HOST}/config.json`], { encoding: 'utf8' })) as Array<{
      key: string;
      layer: string;
    }>;
    expect(config.find((s) => s.key === 'agents.replicas_per_host')?.layer).toMatch(/install/);
    expect(config.find((s) => s.key === 'core.port')?.layer).toMatch(/defaults\.yaml:\d+:\d+$/);
    // Saving over it is refused; the bundle stays as written.
    await expect(backend.api.call('support.save', { previewId: preview.previewId, redaction: {}, path: bundleFile })).rejects.toMatchObject(
      { code: 'SUPPORT_OUTPUT_EXISTS' },
    );
    expect(fs.readFileSync(bundleFile)).toEqual(bytes);
  }, 120_000);

  it('analyzes it in the app: agent-2 entered crash-loop, with its last lines as the bundle holds them', async () => {
    const analysis = await backend.api.call('support.analyze', { path: bundleFile });
    const loop = analysis.findings.find((f) => f.analyzer === 'crash-loop');
    expect(loop).toMatchObject({ severity: 'critical' });
    expect(loop!.summary).toMatch(new RegExp(`^agent-2 on ${HOST} entered crash-loop \\d+ times?`));
    // The evidence is the newest lines the bundle has of agent-2: its events' last lines, else its log's end.
    const read = (file: string) => execFileSync('tar', ['-xOf', bundleFile, `hosts/${HOST}/${file}`], { encoding: 'utf8' });
    const events = JSON.parse(read('events.json')) as Array<{ instance: string | null; lastLines: string[] }>;
    const logLines = read('runtime/logs/agent-2.log')
      .split('\n')
      .filter((line) => line !== '');
    const evidence = events.find((e) => e.instance === 'agent-2' && e.lastLines.length > 0)?.lastLines ?? logLines;
    expect(loop!.details).toEqual(evidence.slice(-5));
    // agent-2's own words: replica 2 would listen past 65535.
    expect(evidence.at(-1)).toContain('past 65535');
    expect(loop!.summary).toContain(`; its last lines say: ${evidence.at(-1)}`);
  }, 60_000);

  it('on the command line: analyzes the file with no data directory, and writes a bundle with host names replaced', async () => {
    const emptyDir = path.join(tmp.path, 'no-data');
    const analyzed = await runSutazaiAsync(['support', 'analyze', bundleFile], emptyDir);
    expect(analyzed.code, analyzed.stderr).toBe(0);
    expect(analyzed.stdout).toMatch(new RegExp(`CRITICAL {2}agent-2 on ${HOST} entered crash-loop`));
    expect(analyzed.stdout).toContain('Remedy: ');
    expect(fs.existsSync(emptyDir)).toBe(false);

    const renamed = path.join(tmp.path, 'renamed.tar');
    const env = { SUTAZAI_PASSPHRASE: VAULT_PASSPHRASE };
    const written = await runSutazaiAsync(['support', 'bundle', '--host', HOST, '--out', renamed, '--redact-host-names'], dataDir, { env });
    expect(written.code, written.stderr).toBe(0);
    expect(written.stdout).toContain(`Written: ${renamed}`);
    const bytes = fs.readFileSync(renamed);
    expect(bytes.includes(HOST)).toBe(false);
    // Nor the name the host reports of itself (its facts' hostname), which the first bundle holds.
    const reported = (
      JSON.parse(execFileSync('tar', ['-xOf', bundleFile, `hosts/${HOST}/facts.json`], { encoding: 'utf8' })) as {
        os: { hostname: string };
      }
    ).os.hostname;
    expect(reported.length).toBeGreaterThan(0);
    const renamedFacts = JSON.parse(execFileSync('tar', ['-xOf', renamed, 'hosts/host-1/facts.json'], { encoding: 'utf8' })) as {
      os: { hostname: string };
    };
    expect(renamedFacts.os.hostname).toMatch(/^host-\d+$/);
    // Anywhere as a name of its own (the same word boundaries as the redaction: a short name inside a longer word is not that name).
    const asWord = new RegExp(`(?<![A-Za-z0-9_-])${reported.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9_-])`, 'i');
    expect(bytes.toString('latin1')).not.toMatch(asWord);
    for (const secret of Object.values(PLANTED)) expect(bytes.includes(secret)).toBe(false);
    expect(execFileSync('tar', ['-tf', renamed], { encoding: 'utf8' })).toContain('hosts/host-1/runtime/logs/agent-2.log');
    const again = await runSutazaiAsync(['support', 'analyze', renamed, '--json'], emptyDir);
    expect(again.code, again.stderr).toBe(0);
    const findings = (JSON.parse(again.stdout) as { findings: Array<{ analyzer: string; summary: string }> }).findings;
    expect(findings.find((f) => f.analyzer === 'crash-loop')?.summary).toMatch(/^agent-2 on host-1 entered crash-loop/);
  }, 180_000);

  it('carries the last N MiB of a log of many short lines, past the 10,000 lines a tail by lines stops at', async () => {
    // 30,000 lines of 41 bytes (newline included) after everything else in an agent's log (a quiet
    // one: agent-1 once scaled, agent alone); the bundle writes each line back as `time stream text`, the same 41 bytes.
    const agent = (await table()).processes.find((p) => p.name === 'agent')!.instances[0]!.instance;
    const line = (i: number) => `2026-01-01T00:00:00.000Z out short ${String(i).padStart(5, '0')}\n`;
    const lineBytes = Buffer.byteLength(line(0));
    fs.appendFileSync(path.join(tree.logDir, `${agent}.log`), Array.from({ length: 30_000 }, (_, i) => line(i)).join(''));
    const logBytes = 13_000 * lineBytes - 1;
    const collected = await backend.api.call('support.collect', { target: { hostId }, logBytesPerProcess: logBytes });
    expect(collected.gaps).toEqual([]);
    const saved = path.join(tmp.path, 'short-lines.tar');
    await backend.api.call('support.save', { previewId: collected.previewId, redaction: {}, path: saved });
    const log = execFileSync('tar', ['-xOf', saved, `hosts/${HOST}/runtime/logs/${agent}.log`], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    // One byte short of 13,000 lines: the oldest of them would be cut, so 12,999 whole lines, the newest last.
    expect(log).toBe(Array.from({ length: 12_999 }, (_, k) => line(30_000 - 12_999 + k)).join(''));
    expect(Buffer.byteLength(log)).toBeLessThanOrEqual(logBytes);
  }, 180_000);
});
