import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, type ApiClient } from '../../../electron/contract';
import { startTestBackend, type RunningBackend } from '../../support/backend-harness';
import { useTestLab } from '../../support/test-hosts/use-test-lab';
import { openSocket, wsTransport } from '../../support/ws-peer';

/**
 * Adding a host the way the app's dialog does, over the real WebSocket API against real
 * sshd hosts: hosts.scanNew reads the key of a host not yet stored, hosts.add with `trust`
 * stores it pinned only when it still presents that key. A wrong address, port or key
 * leaves the inventory as it was. Needs root (the lab does).
 */
const labRef = useTestLab();
/** A login for hosts these tests never log in to: web mode (this socket) takes no SSH agent of the backend's machine. */
const ANY_LOGIN = { method: 'password' as const, password: 'never used here' };
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

async function names(): Promise<string[]> {
  return (await client.call('hosts.list', {})).map((h) => h.name);
}

describe('adding a host with its key confirmed, over the API', () => {
  it('gives an unreachable address and a refused port their own codes, and stores nothing', async () => {
    const { lab } = labRef;
    const host = await lab.addSshHost({ login: 'root-key' });
    const before = await names();
    const key = { method: 'keyText' as const, privateKey: host.privateKey.toString('utf8') };

    const ghost = { name: 'ghost', address: lab.unreachableAddress(), user: 'root', auth: key };
    await expect(client.call('hosts.scanNew', ghost)).rejects.toMatchObject({ code: 'HOST_UNREACHABLE', remedy: expect.any(String) });
    await expect(client.call('hosts.scanNew', ghost)).rejects.toSatisfy((e: Error) => !/MaxStartups|fail2ban/.test(e.message));
    await expect(client.call('hosts.add', { ...ghost, trust: host.hostKeyFingerprint })).rejects.toMatchObject({
      code: 'HOST_UNREACHABLE',
    });

    // The lab host's own address, on a port where nothing listens.
    const refused = { name: 'refused', address: host.address, port: host.port === 1 ? 2 : 1, user: 'root', auth: key };
    await expect(client.call('hosts.scanNew', refused)).rejects.toMatchObject({ code: 'CONNECTION_REFUSED', remedy: expect.any(String) });
    await expect(client.call('hosts.add', { ...refused, trust: host.hostKeyFingerprint })).rejects.toMatchObject({
      code: 'CONNECTION_REFUSED',
    });

    expect(await names()).toEqual(before);
  });

  it('stores nothing when `trust` names another key, and a trusted host with the key it presents', async () => {
    const { lab } = labRef;
    const host = await lab.addSshHost({ login: 'root-key' });
    const other = await lab.addSshHost({ login: 'root-key' });
    const input = {
      name: 'lab-a',
      address: host.address,
      port: host.port,
      user: host.user,
      auth: { method: 'keyText' as const, privateKey: host.privateKey.toString('utf8') },
    };

    await expect(client.call('hosts.scanNew', input)).resolves.toEqual({ keyType: host.hostKeyType, fingerprint: host.hostKeyFingerprint });
    // Reading a key stores nothing.
    expect(await names()).not.toContain('lab-a');

    const wrong = client.call('hosts.add', { ...input, trust: other.hostKeyFingerprint });
    await expect(wrong).rejects.toMatchObject({ code: 'HOST_KEY_MISMATCH' });
    await expect(wrong).rejects.toSatisfy(
      (e: Error) =>
        e.message.includes(host.hostKeyFingerprint) &&
        e.message.includes(other.hostKeyFingerprint) &&
        e.message.includes('lab-a was not added'),
    );
    expect(await names()).not.toContain('lab-a');

    const added = await client.call('hosts.add', { ...input, trust: host.hostKeyFingerprint });
    expect(added).toMatchObject({ name: 'lab-a', hostKey: { keyType: host.hostKeyType, fingerprint: host.hostKeyFingerprint } });
    const listed = (await client.call('hosts.list', {})).find((h) => h.name === 'lab-a');
    expect(listed?.hostKey?.fingerprint).toBe(host.hostKeyFingerprint);
    // Pinned: the stored host's own key check says so.
    await expect(client.call('hosts.scanKey', { hostId: added.id })).resolves.toMatchObject({ status: 'trusted' });
  });

  it('still adds a host without `trust`, unchecked and untrusted (imports and scripts add hosts that are offline now)', async () => {
    const added = await client.call('hosts.add', {
      name: 'offline-1',
      address: labRef.lab.unreachableAddress(),
      user: 'root',
      auth: ANY_LOGIN,
    });
    expect(added).toMatchObject({ name: 'offline-1', hostKey: null });
  });

  it('refuses a `trust` that is not a fingerprint before connecting', async () => {
    await expect(
      client.call('hosts.add', { name: 'typo', address: '198.18.0.1', user: 'root', auth: ANY_LOGIN, trust: 'SHA256:short' }),
    ).rejects.toMatchObject({ code: 'BAD_PARAMS' });
    expect(await names()).not.toContain('typo');
  });
});
