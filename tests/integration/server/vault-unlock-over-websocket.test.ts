import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestBackendWithClient, type RunningBackend, type startTestBackend } from '../../support/backend-harness';
import { makeTempDir } from '../../support/temp-dir';

/**
 * Web mode started without SUTAZAI_PASSPHRASE: the window opens the vault over its
 * authenticated socket (secrets.unlock) instead of a restart with a new URL and token.
 */

const PASSPHRASE = 'correct horse battery staple 7';
const WRONG = 'incorrect mule battery staple 7';
const host = { address: '198.18.200.1', user: 'root' };
const dataDir = makeTempDir('sutazai-vault-unlock-');

function serve(overrides: Parameters<typeof startTestBackend>[0] = {}) {
  return startTestBackendWithClient({ dataDir: dataDir.path, sampleLocalHost: false, probeAtStart: false, ...overrides });
}

function logOf(running: RunningBackend): string {
  running.backend.logger.flush?.();
  return fs.readFileSync(running.backend.logFile, 'utf8');
}

afterAll(() => dataDir.remove());

describe('unlocking the vault from the window', () => {
  it('seals a fresh data directory with the first passphrase given, and the refused action then succeeds', async () => {
    const { running, client, stop } = await serve();
    try {
      await expect(client.call('secrets.status', {})).resolves.toEqual({ unlocked: false, sealedWith: 'none', acceptsPassphrase: true });
      const add = { ...host, name: 'pw-host', auth: { method: 'password' as const, password: 'ssh-password-1' } };
      await expect(client.call('hosts.add', add)).rejects.toMatchObject({ code: 'SECRETS_LOCKED' });

      await expect(client.call('secrets.unlock', { passphrase: PASSPHRASE })).resolves.toEqual({
        unlocked: true,
        sealedWith: 'passphrase',
        acceptsPassphrase: true,
      });
      await expect(client.call('hosts.add', add)).resolves.toMatchObject({ name: 'pw-host', hasSecret: true });

      const log = logOf(running);
      expect(log).toContain('vault sealed with a new passphrase through the API');
      expect(log).not.toContain(PASSPHRASE);
    } finally {
      await stop();
    }
  });

  it('after a restart, refuses a wrong passphrase with a clear error and stays locked, then opens with the right one', async () => {
    const { running, client, stop } = await serve();
    try {
      await expect(client.call('secrets.status', {})).resolves.toEqual({
        unlocked: false,
        sealedWith: 'passphrase',
        acceptsPassphrase: true,
      });
      const refused = await client.call('secrets.unlock', { passphrase: WRONG }).catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: 'SECRETS_PASSPHRASE_WRONG', message: expect.stringContaining('does not open') });
      await expect(client.call('secrets.status', {})).resolves.toMatchObject({ unlocked: false });
      await expect(
        client.call('hosts.add', { ...host, name: 'pw-2', auth: { method: 'password', password: 'ssh-password-2' } }),
      ).rejects.toMatchObject({ code: 'SECRETS_LOCKED' });

      await expect(client.call('secrets.unlock', { passphrase: PASSPHRASE })).resolves.toMatchObject({ unlocked: true });
      await expect(
        client.call('hosts.add', { ...host, name: 'pw-2', auth: { method: 'password', password: 'ssh-password-2' } }),
      ).resolves.toMatchObject({ hasSecret: true });

      const log = logOf(running);
      expect(log).toContain('vault unlock through the API refused');
      expect(log).toContain('vault unlocked through the API');
      expect(log).not.toContain(PASSPHRASE);
      expect(log).not.toContain(WRONG);
    } finally {
      await stop();
    }
  });

  it('refuses a passphrase in the desktop app, whose vault the OS secret store opens', async () => {
    const { client, stop } = await serve({ mode: 'desktop' });
    try {
      await expect(client.call('secrets.status', {})).resolves.toMatchObject({ unlocked: false, acceptsPassphrase: false });
      await expect(client.call('secrets.unlock', { passphrase: PASSPHRASE })).rejects.toMatchObject({ code: 'SECRETS_LOCKED' });
    } finally {
      await stop();
    }
  });
});
