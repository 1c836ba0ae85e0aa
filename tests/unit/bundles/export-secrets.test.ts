import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openExportSecrets, sealExportSecrets } from '../../../electron/backend/bundles/config-bundles/export-secrets';
import { CURRENT_KDF, deriveKey, kdfText, type ScryptParams } from '../../../electron/backend/secrets/passphrase-kdf';
import { seal } from '../../../electron/backend/secrets/sealed-box';

/**
 * A bundle's secrets.json is read before its exporter is trusted, and its key-stretching
 * parameters come from the file: they are bounded before the passphrase is tried, so a
 * planted file cannot make the control center allocate gigabytes or spin for minutes.
 */

const PASSPHRASE = 'an export passphrase';
const CONFIG = 'sutazai_config: 1\nhosts:\n  - name: db-1\n    address: 198.18.42.1\n';

function sealedWith(params: ScryptParams): string {
  // Parameters only: the refusal must come before any key is derived, so nothing is sealed to them.
  return JSON.stringify({ kdf: kdfText(params), salt: randomBytes(16).toString('base64'), sealed: randomBytes(64).toString('base64') });
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

// Each test runs the memory-hard KDF once or twice: on a loaded machine (two cores shared with
// other suites) that took over the unit project's 10 s; the bound only catches a hang.
describe('an export file’s sealed secrets', { timeout: 120_000 }, () => {
  it('open with the passphrase at the parameters every export writes, beside the configuration they were sealed with only', async () => {
    const text = await sealExportSecrets({ 'host/db-1/login': 'hunter2' }, PASSPHRASE, CONFIG);
    expect(await openExportSecrets(text, PASSPHRASE, 'site.sutazai-config', CONFIG)).toEqual({ 'host/db-1/login': 'hunter2' });
    expect(await codeOf(openExportSecrets(text, 'another passphrase', 'site.sutazai-config', CONFIG))).toBe(
      'CONFIG_BUNDLE_PASSPHRASE_WRONG',
    );
    // The same sealed file beside a configuration that puts db-1 elsewhere does not open.
    const elsewhere = CONFIG.replace('198.18.42.1', '203.0.113.66');
    expect(await codeOf(openExportSecrets(text, PASSPHRASE, 'repacked.sutazai-config', elsewhere))).toBe('CONFIG_BUNDLE_PASSPHRASE_WRONG');
    // Four full-cost scrypt derivations: seconds each on a loaded two-core machine, more than
    // the unit project's 10 s default allows for in-process work.
  }, 60_000);

  it('refuse parameters asking for more memory than an export uses, before deriving a key', async () => {
    const memory = { ...CURRENT_KDF, N: CURRENT_KDF.N * 4 };
    expect(await codeOf(openExportSecrets(sealedWith(memory), PASSPHRASE, 'planted.sutazai-config', CONFIG))).toBe('CONFIG_BUNDLE_DAMAGED');
  });

  it('refuse parameters asking for many times an export’s work', async () => {
    const work = { ...CURRENT_KDF, p: 16 };
    expect(await codeOf(openExportSecrets(sealedWith(work), PASSPHRASE, 'planted.sutazai-config', CONFIG))).toBe('CONFIG_BUNDLE_DAMAGED');
  });

  it('say a sealed value that opens to something other than named secrets is damaged, not a crash', async () => {
    const salt = randomBytes(16);
    const key = await deriveKey(PASSPHRASE, salt, CURRENT_KDF);
    const text = JSON.stringify({
      kdf: kdfText(CURRENT_KDF),
      salt: salt.toString('base64'),
      sealed: seal(key, 'not json', `sutazai-config-secrets-v1\n${createHash('sha256').update(CONFIG).digest('hex')}`).toString('base64'),
    });
    expect(await codeOf(openExportSecrets(text, PASSPHRASE, 'odd.sutazai-config', CONFIG))).toBe('CONFIG_BUNDLE_DAMAGED');
  });
});
