import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, type ApiClient } from '../../../electron/contract';
import { MAX_KEY_KDF_ROUNDS } from '../../../electron/backend/hosts/ssh/private-key-header';
import { startTestBackend, type RunningBackend } from '../../support/backend-harness';
import { makeTempDir } from '../../support/temp-dir';
import { openSocket, wsTransport } from '../../support/ws-peer';

/**
 * An encrypted private key pasted in web mode (hosts.add, auth keyText) at the bcrypt rounds
 * cap: ssh2 decrypts it in JavaScript for seconds. Over the real WebSocket API of a real
 * backend, another operator's calls are answered while it is decrypted, and a wrong passphrase
 * is refused with its code as before. The old code decrypted on the backend's thread: the
 * other operator's calls waited until the key was done. No network: the host is stored without
 * being reached (hosts.add without trust).
 */
const keys = makeTempDir('sutazai-key-decrypt-');
const PASSPHRASE = 'correct horse';
let atCap: string;
let running: RunningBackend;
let pasting: ApiClient;
let other: ApiClient;

beforeAll(async () => {
  const file = path.join(keys.path, 'at-cap');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-a', String(MAX_KEY_KDF_ROUNDS), '-N', PASSPHRASE, '-C', 'test', '-f', file]);
  atCap = fs.readFileSync(file, 'utf8');
  running = await startTestBackend({
    vaultKey: { kind: 'passphrase', passphrase: 'test vault passphrase' },
    sampleLocalHost: false,
    probeAtStart: false,
  });
  pasting = createApiClient(wsTransport(await openSocket(running.apiUrl, running.token)));
  other = createApiClient(wsTransport(await openSocket(running.apiUrl, running.token)));
  await running.backend.ready;
});

afterAll(async () => {
  pasting?.close();
  other?.close();
  await running?.stop();
  keys.remove();
});

/** Calls `hosts.add` with the key, and three hosts.list from the other operator one after another; the order they were answered in. */
async function addWhileOtherCalls(name: string, passphrase: string): Promise<{ order: string[]; added: Promise<unknown> }> {
  const order: string[] = [];
  const added = pasting
    .call('hosts.add', { name, address: '198.18.0.9', port: 22, user: 'root', auth: { method: 'keyText', privateKey: atCap, passphrase } })
    .then(
      (host) => {
        order.push('hosts.add answered');
        return host;
      },
      (error: unknown) => {
        order.push('hosts.add answered');
        throw error;
      },
    );
  // Its refusal is read by the test; handled from the start, so that it is never "unhandled" meanwhile.
  const settled = added.then(
    () => undefined,
    () => undefined,
  );
  for (let call = 1; call <= 3; call++) {
    await other.call('hosts.list', {});
    order.push(`hosts.list ${call} answered`);
  }
  await settled;
  return { order, added };
}

describe('a pasted key at the rounds cap, over web mode', () => {
  it("is decrypted while another operator's calls are answered, and the host is stored with it sealed", async () => {
    const { order, added } = await addWhileOtherCalls('capped', PASSPHRASE);
    expect(order).toEqual(['hosts.list 1 answered', 'hosts.list 2 answered', 'hosts.list 3 answered', 'hosts.add answered']);
    await expect(added).resolves.toMatchObject({ name: 'capped', authMethod: 'key', keyPath: null, keyStored: true });
  }, 120_000);

  it("is refused with KEY_PASSPHRASE_WRONG for a wrong passphrase, after another operator's calls were answered, and nothing is stored", async () => {
    const { order, added } = await addWhileOtherCalls('capped-wrong', 'not the passphrase');
    expect(order).toEqual(['hosts.list 1 answered', 'hosts.list 2 answered', 'hosts.list 3 answered', 'hosts.add answered']);
    const error = await added.then(
      () => null,
      (caught: { code: string; message: string; remedy?: string }) => caught,
    );
    expect(error).toMatchObject({ code: 'KEY_PASSPHRASE_WRONG' });
    expect(error?.message).toMatch(/^The passphrase does not decrypt the private key given for host capped-wrong/);
    expect(error?.message).not.toContain('not the passphrase');
    expect((await other.call('hosts.list', {})).map((host) => host.name)).not.toContain('capped-wrong');
  }, 120_000);

  // While the key is decrypted, another operator's calls run, this one included: the change is
  // then made on the host as it is after the key check, not on the one read before it. (The
  // code before the key worker answered the remove only after the change, so 'changed' came
  // first; an update that kept the host it read before the key check would change a removed one.)
  it('given in a host change, meets the host as it is once the key is decrypted: one removed meanwhile is HOST_NOT_FOUND', async () => {
    const host = await other.call('hosts.add', {
      name: 'moving',
      address: '198.18.0.10',
      port: 22,
      user: 'root',
      auth: { method: 'password', password: 'a password' },
    });
    const order: string[] = [];
    const changing = pasting
      .call('hosts.update', { hostId: host.id, changes: { auth: { method: 'keyText', privateKey: atCap, passphrase: PASSPHRASE } } })
      .then(
        () => order.push('changed'),
        (error: { code: string }) => order.push(`change refused: ${error.code}`),
      );
    await other.call('hosts.remove', { hostId: host.id });
    order.push('removed');
    await changing;
    expect(order).toEqual(['removed', 'change refused: HOST_NOT_FOUND']);
    expect((await other.call('hosts.list', {})).map((row) => row.name)).not.toContain('moving');
  }, 120_000);
});
