// The runtime's own audit log (issue 14, item 6): the real gRPC server over mutual TLS, with
// certificates from the app's PKI naming operators, appends every state-changing call and
// every refusal to <state_dir>/audit.log, hash-chained in the control center's format; the
// same verifier finds an entry edited, removed or reordered, and a line cut short.
import * as grpc from '@grpc/grpc-js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AUDIT_LOG_FILE, openAuditFile, readAuditFile, verifyAuditFile } from '../../../agents-runtime/src/audit/audit-file';
import type { AuditRow } from '../../../agents-runtime/src/audit/verify-audit-chain';
import type { RuntimeClient } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/Runtime';
import { startRuntimeServer, type RuntimeServer } from '../../../agents-runtime/src/server/runtime-server';
import { loadRuntimeProtos } from '../../../agents-runtime/src/wire/runtime-client-protos';
import { createInstallCa, type InstallCa } from '../../../electron/backend/pki/install-ca';
import { issueClientCertificate, issueServerCertificate, type IssuedCertificate } from '../../../electron/backend/pki/issue-certificate';
import { main as runtimeCli } from '../../../agents-runtime/src/cli/sutazai-runtime';
import { FixedRuntimeApi } from '../../support/fixed-runtime-api';
import { makeRuntimeCerts } from '../../support/runtime-certs';
import { writeDaemonFiles } from '../../support/runtime-daemon-harness';

const protos = loadRuntimeProtos();
let ca: InstallCa;
let serverCert: IssuedCertificate;
let alice: IssuedCertificate;
let victor: IssuedCertificate;
let stateDir: string;
let server: RuntimeServer;
const clients: grpc.Client[] = [];

function client(cert: IssuedCertificate): RuntimeClient {
  const credentials = grpc.credentials.createSsl(Buffer.from(ca.certPem), Buffer.from(cert.keyPem), Buffer.from(cert.certPem));
  const c = new protos.sutazai.runtime.v1.Runtime(`127.0.0.1:${server.port}`, credentials, {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.ssl_target_name_override': 'localhost',
  });
  clients.push(c);
  return c;
}

/** The call's outcome: `ok` or the gRPC status name. */
function outcome(start: (options: grpc.CallOptions, callback: (error: grpc.ServiceError | null) => void) => void): Promise<string> {
  return new Promise((resolve) =>
    start({ deadline: Date.now() + 5_000 }, (error) => resolve(error === null ? 'ok' : (grpc.status[error.code] ?? 'UNKNOWN'))),
  );
}

const file = () => path.join(stateDir, AUDIT_LOG_FILE);
const rows = () => readAuditFile(file()) as AuditRow[];

beforeAll(async () => {
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-runtime-audit-'));
  ca = await createInstallCa({ installName: 'lab' });
  [serverCert, alice, victor] = await Promise.all([
    issueServerCertificate(ca, { hostName: 'db-1' }),
    issueClientCertificate(ca, { operatorName: 'alice', role: 'operator' }),
    issueClientCertificate(ca, { operatorName: 'victor', role: 'viewer' }),
  ]);
  server = await startRuntimeServer({
    tls: { caCertPem: ca.certPem, certPem: serverCert.certPem, keyPem: serverCert.keyPem },
    api: new FixedRuntimeApi(),
    auditLogFile: file(),
  });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await server?.close();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

describe('the runtime audit log', () => {
  it('appends each state-changing call and each refusal with who, from where, what and the outcome; reads are not recorded', async () => {
    const a = client(alice);
    const v = client(victor);
    const outcomes = [
      await outcome((o, cb) => a.RestartProcess({ name: 'core' }, o, cb)),
      await outcome((o, cb) => a.ScaleProcess({ name: 'core', replicas: 3 }, o, cb)),
      await outcome((o, cb) => a.StopProcess({ name: 'nope' }, o, cb)),
      // An operator may not change the manifest; a viewer may not restart.
      await outcome((o, cb) => a.UpdateManifest({ manifestYaml: 'processes: []' }, o, cb)),
      await outcome((o, cb) => v.RestartProcess({ name: 'core' }, o, cb)),
      // Reads that are allowed leave no entry.
      await outcome((o, cb) => v.ListProcesses({}, o, cb)),
      await outcome((o, cb) => a.GetInfo({}, o, cb)),
    ];
    expect(outcomes).toEqual(['ok', 'ok', 'NOT_FOUND', 'PERMISSION_DENIED', 'PERMISSION_DENIED', 'ok', 'ok']);

    const entries = rows();
    expect(
      entries.map(({ seq, operator, actor, action, method, target, outcome: o }) => [seq, operator, actor, action, method, target, o]),
    ).toEqual([
      [1, 'alice', 'certificate:operator', 'control', 'RestartProcess', 'process core', 'ok'],
      [2, 'alice', 'certificate:operator', 'scale', 'ScaleProcess', 'process core, replicas 3', 'ok'],
      [3, 'alice', 'certificate:operator', 'control', 'StopProcess', 'process nope', 'PROCESS_NOT_FOUND'],
      // A refusal names what the call asked for as well as who tried: the request is read before the role is checked.
      [
        4,
        'alice',
        'certificate:operator',
        'manifest',
        'UpdateManifest',
        expect.stringMatching(/^manifest sha256:[0-9a-f]{16}$/),
        'PERMISSION_DENIED',
      ],
      [5, 'victor', 'certificate:viewer', 'control', 'RestartProcess', 'process core', 'PERMISSION_DENIED'],
    ]);
    for (const entry of entries) expect(entry.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(fs.statSync(file()).mode & 0o777).toBe(0o600);
    expect(verifyAuditFile(file())).toEqual({
      entries: 5,
      head: { seq: 5, hash: entries[4]!.hash },
      broken: null,
      kept: null,
      segments: 1,
    });
  });

  it('continues the chain after a restart of the server', async () => {
    await server.close();
    server = await startRuntimeServer({
      tls: { caCertPem: ca.certPem, certPem: serverCert.certPem, keyPem: serverCert.keyPem },
      api: new FixedRuntimeApi(),
      auditLogFile: file(),
    });
    expect(await outcome((o, cb) => client(alice).StartProcess({ name: 'core' }, o, cb))).toBe('ok');
    const entries = rows();
    expect(entries.at(-1)).toMatchObject({ seq: 6, method: 'StartProcess', prevHash: entries[4]!.hash });
    expect(verifyAuditFile(file()).broken).toBeNull();
  });

  it('sutazai-runtime audit-verify checks the state_dir log: exit 0 as appended, 8 once an entry is edited', async () => {
    const certs = makeRuntimeCerts();
    const configFile = path.join(stateDir, 'etc', 'runtime.yaml');
    fs.mkdirSync(path.dirname(configFile), { recursive: true });
    writeDaemonFiles({ configFile, manifest: 'processes: []\n', listenPort: 1, stateDir, logDir: path.join(stateDir, 'logs'), certs });
    const out: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    const original = fs.readFileSync(file(), 'utf8');
    try {
      expect(await runtimeCli(['audit-verify', '--config', configFile, '--json'])).toBe(0);
      expect(JSON.parse(out.join(''))).toMatchObject({ entries: 6, broken: null });
      out.length = 0;
      fs.writeFileSync(file(), original.replace('replicas 3', 'replicas 9'));
      expect(await runtimeCli(['audit-verify', '--config', configFile])).toBe(8);
      expect(out.join('')).toMatch(/NOT as appended: edited at entry 2/);
    } finally {
      write.mockRestore();
      fs.writeFileSync(file(), original);
      certs.remove();
    }
  });

  describe('verify finds each change', () => {
    const copyWith = (change: (lines: string[]) => string[]): string => {
      const lines = fs.readFileSync(file(), 'utf8').trimEnd().split('\n');
      // A log of its own: verify reads every segment beside the file it is given.
      const copy = path.join(fs.mkdtempSync(path.join(stateDir, 'copy-')), AUDIT_LOG_FILE);
      fs.writeFileSync(copy, `${change(lines).join('\n')}\n`);
      return copy;
    };

    it('an edited entry', () => {
      const copy = copyWith((lines) => lines.map((line, i) => (i === 1 ? line.replace('replicas 3', 'replicas 1') : line)));
      expect(verifyAuditFile(copy).broken).toMatchObject({ seq: 2, kind: 'edited' });
    });

    it('a removed entry', () => {
      const copy = copyWith((lines) => lines.filter((_, i) => i !== 2));
      expect(verifyAuditFile(copy).broken).toMatchObject({ seq: 3, kind: 'removed' });
    });

    it("reordered entries (renumbered into each other's places)", () => {
      const renumbered = (line: string, seq: number) => JSON.stringify({ ...(JSON.parse(line) as object), seq });
      const copy = copyWith((lines) => [lines[0]!, renumbered(lines[2]!, 2), renumbered(lines[1]!, 3), ...lines.slice(3)]);
      expect(verifyAuditFile(copy).broken).toMatchObject({ seq: 2, kind: 'reordered' });
    });

    it('the newest entries cut off, against an anchor written down earlier', () => {
      const head = verifyAuditFile(file()).head!;
      const copy = copyWith((lines) => lines.slice(0, -1));
      expect(verifyAuditFile(copy).broken).toBeNull();
      expect(verifyAuditFile(copy, head).broken).toMatchObject({ seq: head.seq, kind: 'removed' });
    });

    it('a line cut short by a crash; the next append starts on its own line', () => {
      const whole = fs.readFileSync(file(), 'utf8');
      const torn = path.join(fs.mkdtempSync(path.join(stateDir, 'torn-')), AUDIT_LOG_FILE);
      fs.writeFileSync(torn, whole.slice(0, whole.length - 20), { mode: 0o600 });
      expect(verifyAuditFile(torn).broken).toMatchObject({ seq: 6, kind: 'edited' });
      const log = openAuditFile(torn);
      log.append({
        atMs: 1,
        operator: null,
        actor: 'test',
        peer: 'test',
        action: 'control',
        method: 'StartProcess',
        target: null,
        outcome: 'ok',
      });
      log.close();
      const entries = readAuditFile(torn);
      expect(entries.at(-1)).toMatchObject({ seq: 6, method: 'StartProcess', actor: 'test' });
      expect(entries.at(-2)).toMatchObject({ line: 6 });
    });
  });
});
