import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, type ApiClient } from '../../../electron/contract';
import { startTestBackend, type RunningBackend } from '../../support/backend-harness';
import { useTestLab } from '../../support/test-hosts/use-test-lab';
import { desktopCall } from '../../support/desktop-call';
import { openSocket, wsTransport } from '../../support/ws-peer';

/**
 * Key login in web mode: the browser is on another computer, so it sends the private key
 * itself (auth.method 'keyText'), never a path on the backend's machine. Over the real
 * WebSocket API (web mode's pipe) against real sshd hosts of the test lab: the key is
 * checked on arrival, sealed in the vault, used to log in after the host key is pinned,
 * and found in clear nowhere in the data directory (the SQLite file, its journal, the logs,
 * the audit log). A path (auth.keyPath) is refused before anything is read. Needs root (the lab does).
 */
const labRef = useTestLab();
let running: RunningBackend;
let client: ApiClient;

beforeAll(async () => {
  running = await startTestBackend({ vaultKey: { kind: 'passphrase', passphrase: 'test vault passphrase' }, sampleLocalHost: false });
  client = createApiClient(wsTransport(await openSocket(running.apiUrl, running.token)));
  await running.backend.ready;
});

afterAll(async () => {
  client?.close();
  await running?.stop();
});

const refusal = (call: Promise<unknown>) =>
  call.then(
    () => ({ code: 'accepted', message: '', remedy: '' }),
    (error: { code: string; message: string; remedy?: string }) => ({
      code: error.code,
      message: error.message,
      remedy: error.remedy ?? '',
    }),
  );

/** Every file under the data directory, as bytes (the store, its WAL, logs, anything else written). */
function everyFileIn(dir: string): Array<{ file: string; bytes: Buffer }> {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const file = path.join(entry.parentPath, entry.name);
      return { file, bytes: fs.readFileSync(file) };
    });
}

async function names(): Promise<string[]> {
  return (await client.call('hosts.list', {})).map((h) => h.name);
}

describe('key login with the key sent as text, over web mode', () => {
  it('adds a host with a pasted key, probes it over SSH, and keeps the key sealed everywhere', async () => {
    const { lab } = labRef;
    const host = await lab.addSshHost({ login: 'root-key' });
    const keyText = host.privateKey.toString('utf8');
    const encryptedText = fs.readFileSync(host.encryptedKeyPath, 'utf8');
    const input = {
      name: 'text-a',
      address: host.address,
      port: host.port,
      user: host.user,
      auth: { method: 'keyText' as const, privateKey: keyText },
    };

    await expect(client.call('hosts.scanNew', input)).resolves.toEqual({ keyType: host.hostKeyType, fingerprint: host.hostKeyFingerprint });
    const added = await client.call('hosts.add', { ...input, trust: host.hostKeyFingerprint });
    expect(added).toMatchObject({
      name: 'text-a',
      authMethod: 'key',
      keyPath: null,
      keyStored: true,
      hostKey: { fingerprint: host.hostKeyFingerprint },
    });
    const facts = await client.call('hosts.probe', { hostId: added.id });
    expect(facts.os.kernel).toMatch(/\S/);
    await expect(client.call('hosts.get', { hostId: added.id })).resolves.toMatchObject({ host: { lastProbe: { ok: true } } });

    // An encrypted key with its passphrase; an edit that replaces the first host's key with it.
    const encrypted = await client.call('hosts.add', {
      ...input,
      name: 'text-b',
      auth: { method: 'keyText', privateKey: encryptedText, passphrase: host.passphrase },
      trust: host.hostKeyFingerprint,
    });
    await client.call('hosts.probe', { hostId: encrypted.id });
    const edited = await client.call('hosts.update', {
      hostId: added.id,
      changes: { auth: { method: 'keyText', privateKey: encryptedText, passphrase: host.passphrase } },
    });
    expect(edited).toMatchObject({ keyStored: true, hasSecret: true });
    await client.call('hosts.probe', { hostId: added.id });

    // Nothing in the data directory holds the key, a line of it, or its passphrase in clear.
    const keyLines = [keyText, encryptedText].flatMap((text) => text.split('\n').filter((line) => line.length >= 40));
    expect(keyLines.length).toBeGreaterThan(2);
    const secrets = [...keyLines, host.passphrase];
    const files = everyFileIn(running.dataDir);
    expect(files.map((f) => path.basename(f.file))).toEqual(expect.arrayContaining([expect.stringMatching(/\.(db|sqlite)$/)]));
    for (const { file, bytes } of files)
      for (const secret of secrets) expect(bytes.includes(secret), `${file} holds a secret in clear`).toBe(false);
    // The audit log recorded the calls, naming the hosts and never the key.
    const audit = await client.call('audit.list', { limit: 200 });
    const hostCalls = audit.entries.filter((entry) => entry.method === 'hosts.add' || entry.method === 'hosts.update');
    expect(hostCalls.length).toBeGreaterThanOrEqual(3);
    const auditText = JSON.stringify(audit.entries);
    for (const secret of secrets) expect(auditText).not.toContain(secret);
    // The key is never sent back either.
    const listed = JSON.stringify(await client.call('hosts.list', {}));
    for (const secret of secrets) expect(listed).not.toContain(secret);
  });

  it('refuses garbage, a public key and a wrong or missing passphrase with their codes, and stores nothing', async () => {
    const { lab } = labRef;
    const host = await lab.addSshHost({ login: 'root-key' });
    const before = await names();
    const base = { name: 'text-bad', address: host.address, port: host.port, user: host.user };
    const encryptedText = fs.readFileSync(host.encryptedKeyPath, 'utf8');
    const publicText = fs.readFileSync(`${host.privateKeyPath}.pub`, 'utf8');
    const cases = [
      { auth: { method: 'keyText', privateKey: 'not a key at all\n' }, code: 'KEY_TEXT_INVALID' },
      { auth: { method: 'keyText', privateKey: publicText }, code: 'KEY_TEXT_INVALID' },
      { auth: { method: 'keyText', privateKey: encryptedText, passphrase: 'not the passphrase' }, code: 'KEY_PASSPHRASE_WRONG' },
      { auth: { method: 'keyText', privateKey: encryptedText }, code: 'KEY_PASSPHRASE_WRONG' },
      { auth: { method: 'keyText', privateKey: 'x'.repeat(17 * 1024) }, code: 'BAD_PARAMS' },
    ] as const;
    for (const { auth, code } of cases) {
      for (const call of [
        client.call('hosts.scanNew', { ...base, auth }),
        client.call('hosts.add', { ...base, auth, trust: host.hostKeyFingerprint }),
      ]) {
        const answer = await refusal(call);
        expect(answer.code, `${code}: ${answer.message}`).toBe(code);
        expect(answer.remedy).toMatch(/\S/);
        expect(answer.message).not.toContain('not the passphrase');
      }
    }
    expect(await names()).toEqual(before);
  });

  it('refuses a key file named by path from web mode before it is read; the desktop pipe still takes one', async () => {
    const { lab } = labRef;
    const host = await lab.addSshHost({ login: 'root-key' });
    const base = { name: 'path-a', address: host.address, port: host.port, user: host.user };
    const byPath = { method: 'key' as const, keyPath: host.privateKeyPath };
    for (const call of [
      client.call('hosts.scanNew', { ...base, auth: byPath }),
      client.call('hosts.add', { ...base, auth: byPath }),
      // A file that does not exist: refused the same, so a page cannot probe for files by the answer.
      client.call('hosts.add', { ...base, auth: { method: 'key', keyPath: '/nonexistent/id_ed25519' } }),
    ]) {
      const answer = await refusal(call);
      expect(answer.code).toBe('METHOD_NOT_ON_THIS_PIPE');
      expect(answer.message).toContain('auth.keyPath');
      expect(answer.remedy).toContain('Paste key');
    }
    expect(await names()).not.toContain('path-a');
    const stored = await client.call('hosts.add', { ...base, auth: { method: 'keyText', privateKey: host.privateKey.toString('utf8') } });
    const update = await refusal(client.call('hosts.update', { hostId: stored.id, changes: { auth: byPath } }));
    expect(update).toMatchObject({ code: 'METHOD_NOT_ON_THIS_PIPE', message: expect.stringContaining('changes.auth.keyPath') });
    await expect(client.call('hosts.get', { hostId: stored.id })).resolves.toMatchObject({ host: { keyPath: null, keyStored: true } });
    const recorded = await client.call('audit.list', { outcome: 'METHOD_NOT_ON_THIS_PIPE', limit: 50 });
    expect(recorded.entries.map((entry) => entry.method)).toEqual(expect.arrayContaining(['hosts.add', 'hosts.scanNew', 'hosts.update']));

    // A host list from a page: its keyPath rows are refused (inside the YAML, where the dispatcher cannot look), the rest imported.
    const list = [
      'hosts:',
      '  - name: listed-plain',
      '    address: 198.18.0.9',
      '  - name: listed-key',
      '    address: 198.18.0.10',
      `    keyPath: ${host.privateKeyPath}`,
      '',
    ];
    const imported = await client.call('hosts.import', { text: list.join('\n'), fileName: 'page.yaml' });
    expect(imported.added.map((h) => h.name)).toEqual(['listed-plain']);
    expect(imported.errors).toEqual([
      expect.objectContaining({
        row: 2,
        message: expect.stringContaining("names a file on the backend's machine"),
        remedy: expect.stringContaining('Paste key'),
      }),
    ]);
    expect(await names()).not.toContain('listed-key');

    // The desktop app's window sits at the backend's machine: its key file is its own.
    const desktop = await desktopCall(running.backend.dispatcher, 'hosts.add', { ...base, name: 'path-desktop', auth: byPath });
    expect(desktop).toMatchObject({ ok: true, result: { name: 'path-desktop', keyPath: host.privateKeyPath, keyStored: false } });
  });
});
