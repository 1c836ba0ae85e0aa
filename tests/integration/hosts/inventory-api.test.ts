import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, type ApiClient } from '../../../electron/contract';
import { startTestBackend, type RunningBackend } from '../../support/backend-harness';
import { revealHostSecret } from '../../support/sealed-secrets';
import { makeTempDir } from '../../support/temp-dir';
import { openSocket, wsTransport } from '../../support/ws-peer';

const KNOWN_PASSWORD = `Correct-Horse-${Math.random().toString(36).slice(2)}-Battery`;
const KEY_PASSPHRASE = `kp-${Math.random().toString(36).slice(2)}`;
const VAULT_PASSPHRASE = 'test vault passphrase';
/** A login for hosts these tests never log in to: web mode (this socket) takes no SSH agent of the backend's machine. */
const ANY_LOGIN = { method: 'password' as const, password: 'never used here' };
let running: RunningBackend;
let client: ApiClient;
const keys = makeTempDir('sutazai-keys-');

beforeAll(async () => {
  running = await startTestBackend({ vaultKey: { kind: 'passphrase', passphrase: VAULT_PASSPHRASE }, sampleLocalHost: false });
  client = createApiClient(wsTransport(await openSocket(running.apiUrl, running.token)));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(keys.path, 'plain')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', KEY_PASSPHRASE, '-f', path.join(keys.path, 'encrypted')]);
  await running.backend.ready;
});

afterAll(async () => {
  client?.close();
  await running?.stop();
  keys.remove();
});

const base = { address: '198.18.200.1', user: 'root' };

describe('inventory over the API', () => {
  it('never writes a password to the database, the WAL, the logs or a preflight export', async () => {
    const host = await client.call('hosts.add', {
      ...base,
      name: 'pw-host',
      auth: { method: 'password', password: KNOWN_PASSWORD },
      sudoPassword: KNOWN_PASSWORD,
    });
    expect(host).toMatchObject({ name: 'pw-host', authMethod: 'password', hasSecret: true, hostKey: null });
    const listed = JSON.stringify(await client.call('hosts.list', {}));
    const report = JSON.stringify(await client.call('preflight.run', { hostIds: [host.id], profile: 'agent' }));
    running.backend.logger.flush?.();
    const files = fs.readdirSync(running.dataDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(files.some((f) => f.name.startsWith('sutazai.db'))).toBe(true);
    for (const file of files) {
      const bytes = fs.readFileSync(path.join(file.parentPath, file.name));
      expect(bytes.includes(KNOWN_PASSWORD), file.name).toBe(false);
    }
    expect(listed).not.toContain(KNOWN_PASSWORD);
    expect(report).not.toContain(KNOWN_PASSWORD);
    // It is sealed, not lost: the vault opens it again.
    expect(revealHostSecret(running.dataDir, VAULT_PASSPHRASE, 'pw-host')).toBe(KNOWN_PASSWORD);
  });

  it('checks the key file when the host is added, and stores nothing when it is bad', async () => {
    // A key file is on the backend's machine: named from the command line (or the desktop app), never from web mode.
    const client = running.backend.openClient('test-cli');
    const before = (await client.call('hosts.list', {})).length;
    await expect(
      client.call('hosts.add', { ...base, name: 'k1', auth: { method: 'key', keyPath: path.join(keys.path, 'missing') } }),
    ).rejects.toMatchObject({ code: 'KEY_FILE_UNREADABLE' });
    await expect(
      client.call('hosts.add', {
        ...base,
        name: 'k2',
        auth: { method: 'key', keyPath: path.join(keys.path, 'encrypted'), passphrase: 'wrong' },
      }),
    ).rejects.toMatchObject({ code: 'KEY_PASSPHRASE_WRONG' });
    await expect(
      client.call('hosts.add', { ...base, name: 'k3', auth: { method: 'key', keyPath: path.join(keys.path, 'plain.pub') } }),
    ).rejects.toMatchObject({ code: 'KEY_FILE_UNREADABLE' });
    expect((await client.call('hosts.list', {})).length).toBe(before);
    const ok = await client.call('hosts.add', {
      ...base,
      name: 'k4',
      auth: { method: 'key', keyPath: path.join(keys.path, 'encrypted'), passphrase: KEY_PASSPHRASE },
    });
    expect(ok).toMatchObject({ authMethod: 'key', hasSecret: true });
    client.close();
  });

  it('refuses bad input with a code and a remedy', async () => {
    await expect(client.call('hosts.add', { ...base, name: 'k4', auth: ANY_LOGIN })).rejects.toMatchObject({
      code: 'HOST_NAME_TAKEN',
    });
    await expect(client.call('hosts.add', { ...base, name: 'p', port: 70000, auth: ANY_LOGIN })).rejects.toMatchObject({
      code: 'BAD_PARAMS',
    });
    await expect(client.call('hosts.add', { ...base, name: 'bad name!', auth: ANY_LOGIN })).rejects.toMatchObject({
      code: 'BAD_PARAMS',
    });
    const local = (await client.call('hosts.list', {})).find((h) => h.kind === 'local')!;
    await expect(client.call('hosts.remove', { hostId: local.id })).rejects.toMatchObject({ code: 'HOST_IS_LOCAL' });
  });

  it('chains through jump hosts, refuses loops and keeps a jump host that is in use', async () => {
    const bastion = await client.call('hosts.add', { ...base, name: 'bastion', address: '198.18.200.2', auth: ANY_LOGIN });
    const inner = await client.call('hosts.add', {
      ...base,
      name: 'inner',
      address: '198.19.200.2',
      auth: ANY_LOGIN,
      jumpHostId: bastion.id,
      labels: ['gpu', 'rack=b4'],
      role: 'agent',
    });
    expect(inner).toMatchObject({ jumpHostId: bastion.id, labels: ['gpu', 'rack=b4'], role: 'agent' });
    await expect(client.call('hosts.update', { hostId: bastion.id, changes: { jumpHostId: inner.id } })).rejects.toMatchObject({
      code: 'HOST_JUMP_INVALID',
    });
    await expect(client.call('hosts.remove', { hostId: bastion.id })).rejects.toMatchObject({ code: 'HOST_IN_USE' });
    const moved = await client.call('hosts.update', { hostId: inner.id, changes: { jumpHostId: null, labels: ['gpu'] } });
    expect(moved).toMatchObject({ jumpHostId: null, labels: ['gpu'] });
    await expect(client.call('hosts.remove', { hostId: bastion.id })).resolves.toEqual({ removed: bastion.id });
  });

  it('keeps how the last probe of each host ended as its status', async () => {
    const host = await client.call('hosts.add', { ...base, name: 'nowhere-1', address: '198.18.201.1', auth: ANY_LOGIN });
    expect(host.lastProbe).toBeNull();
    const seen: string[] = [];
    const off = await client.subscribe('probes.progress', {}, (p) => seen.push(p.state));
    const job = await client.call('probes.start', { hostIds: [host.id], timeoutMs: 1500 });
    const deadline = Date.now() + 15_000;
    while (!seen.some((s) => s === 'failed' || s === 'done') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await off();
    expect(job.total).toBe(1);
    expect(seen).toContain('failed');
    const after = (await client.call('hosts.list', {})).find((h) => h.id === host.id)!;
    expect(after.lastProbe).toMatchObject({ ok: false, error: { code: expect.any(String), remedy: expect.any(String) } });
    const local = (await client.call('hosts.list', {})).find((h) => h.kind === 'local')!;
    await client.call('hosts.probe', { hostId: local.id });
    expect((await client.call('hosts.get', { hostId: local.id })).host.lastProbe).toMatchObject({ ok: true, error: null });
  });

  it('imports a YAML list, adding the good rows and locating the bad ones', async () => {
    const text = [
      'hosts:',
      '  - name: imp-1',
      '    address: 198.18.200.10',
      '  - name: imp-2',
      '    address: 198.18.200.11',
      '    port: 0',
      '  - name: imp-3',
      '    address: 198.18.200.12',
      '    jumpHost: nowhere',
    ].join('\n');
    const result = await client.call('hosts.import', { text, fileName: 'lab.yaml' });
    expect(result.added.map((h) => h.name)).toEqual(['imp-1']);
    expect(result.errors.map((e) => [e.row, e.line])).toEqual([
      [2, 6],
      [3, 7],
    ]);
    expect(result.errors[0]!.message).toContain('lab.yaml');
    expect(result.errors[1]!.message).toContain('nowhere');
  });

  it('judges the local machine against a profile and keeps the result', async () => {
    const local = (await client.call('hosts.list', {})).find((h) => h.kind === 'local')!;
    const profiles = await client.call('preflight.profiles', {});
    expect(profiles.map((p) => p.name)).toEqual(expect.arrayContaining(['core', 'agent', 'agent-gpu']));
    const report = await client.call('preflight.run', { hostIds: [local.id], profile: 'agent-gpu' });
    const checks = new Map(report.hosts[0]!.checks.map((c) => [c.id, c]));
    // This build machine has no GPU: a GPU agent profile must fail it, with a remedy.
    expect(checks.get('gpu.count')).toMatchObject({ outcome: 'fail' });
    expect(checks.get('gpu.count')!.remedy).not.toBe('');
    expect(report.outcome).toBe('fail');
    const history = await client.call('preflight.history', { hostId: local.id });
    expect(history[0]).toMatchObject({ profile: 'agent-gpu', outcome: 'fail' });
    // The hosts list's column: one newest result per host, in one call.
    const { results: latest, next } = await client.call('preflight.latest', {});
    expect(next).toBeNull(); // a few hosts: one page
    const counts = { pass: 0, warn: 0, fail: 0 };
    for (const check of report.hosts[0]!.checks) counts[check.outcome] += 1;
    expect(latest.find((l) => l.hostId === local.id)).toEqual({
      hostId: local.id,
      hostName: local.name,
      profile: 'agent-gpu',
      outcome: 'fail',
      ranAt: report.ranAt,
      counts,
    });
    expect(new Set(latest.map((l) => l.hostId)).size).toBe(latest.length);
    expect(latest.length).toBeGreaterThanOrEqual(2); // pw-host was judged earlier in this file
    await expect(client.call('preflight.run', { hostIds: [local.id], profile: 'mainframe' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('a vault that is not unlocked', () => {
  it('refuses to store a password and stores nothing', async () => {
    const locked = await startTestBackend({ sampleLocalHost: false, probeAtStart: false });
    const lockedClient = createApiClient(wsTransport(await openSocket(locked.apiUrl, locked.token)));
    try {
      await expect(
        lockedClient.call('hosts.add', { ...base, name: 'pw', auth: { method: 'password', password: 'x-secret-x' } }),
      ).rejects.toMatchObject({ code: 'SECRETS_LOCKED' });
      expect((await lockedClient.call('hosts.list', {})).map((h) => h.name)).toEqual(['local']);
    } finally {
      lockedClient.close();
      await locked.stop();
    }
  });
});
