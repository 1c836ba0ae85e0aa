import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestBackendWithClient } from '../../support/backend-harness';
import { revealHostSecret } from '../../support/sealed-secrets';
import { makeTempDir } from '../../support/temp-dir';

/**
 * secrets.changePassphrase over the authenticated socket: every sealed secret is re-sealed
 * under the new passphrase, the old one no longer opens the data directory after a restart,
 * and neither passphrase reaches the log.
 */

const FIRST = 'first vault passphrase 41';
const SECOND = 'second vault passphrase 42';
const dataDir = makeTempDir('sutazai-vault-change-');
/** Each call stretches passphrases with scrypt at N=2^17 (seconds on a loaded machine). */
const TIMEOUT_MS = 120_000;
afterAll(() => dataDir.remove());

function serve(passphrase?: string) {
  return startTestBackendWithClient({
    dataDir: dataDir.path,
    sampleLocalHost: false,
    probeAtStart: false,
    ...(passphrase ? { vaultKey: { kind: 'passphrase' as const, passphrase } } : {}),
  });
}

describe('changing the vault passphrase from the window', () => {
  it(
    'refuses a wrong current or a short new passphrase, then re-seals: after a restart only the new one opens, secrets intact',
    async () => {
      const first = await serve(FIRST);
      try {
        await first.client.call('hosts.add', {
          name: 'pw-host',
          address: '198.18.201.1',
          user: 'root',
          auth: { method: 'password', password: 'ssh-password-1' },
        });
        await expect(
          first.client.call('secrets.changePassphrase', { passphrase: 'not the passphrase 1', newPassphrase: SECOND }),
        ).rejects.toMatchObject({ code: 'SECRETS_PASSPHRASE_WRONG' });
        await expect(
          first.client.call('secrets.changePassphrase', { passphrase: FIRST, newPassphrase: 'short one' }),
        ).rejects.toMatchObject({ code: 'SECRETS_PASSPHRASE_WEAK' });
        await expect(first.client.call('secrets.changePassphrase', { passphrase: FIRST, newPassphrase: SECOND })).resolves.toEqual({
          resealed: 1,
          unreadable: 0,
        });
        // This backend goes on with the new key: a new secret is sealed under it.
        await first.client.call('hosts.add', {
          name: 'pw-host-2',
          address: '198.18.201.2',
          user: 'root',
          auth: { method: 'password', password: 'ssh-password-2' },
        });
        first.running.backend.logger.flush?.();
        const log = fs.readFileSync(first.running.backend.logFile, 'utf8');
        expect(log).toContain('vault passphrase changed through the API');
        expect(log).not.toContain(FIRST);
        expect(log).not.toContain(SECOND);
      } finally {
        await first.stop();
      }

      await expect(serve(FIRST)).rejects.toMatchObject({ code: 'SECRETS_PASSPHRASE_WRONG' });
      const second = await serve(SECOND);
      try {
        for (const name of ['pw-host', 'pw-host-2']) {
          expect(revealHostSecret(dataDir.path, SECOND, name, `password:${name}`)).toBe(
            name === 'pw-host' ? 'ssh-password-1' : 'ssh-password-2',
          );
        }
      } finally {
        await second.stop();
      }
    },
    TIMEOUT_MS,
  );
});
