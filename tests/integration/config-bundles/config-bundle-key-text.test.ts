import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiError } from '../../../electron/contract';
import { readConfigFile } from '../../../electron/backend/bundles/config-bundles/config-bundle-file';
import { PRIVATE_KEY_PURPOSE } from '../../../electron/backend/hosts/build-ssh-target';
import { createSecretVault } from '../../../electron/backend/secrets/secret-vault';
import { closeConfigSite, fileSha256, startConfigSite, type ConfigSite } from '../../support/config-sites';
import { withKdfRounds } from '../../support/openssh-key-rounds';
import { makeTempDir } from '../../support/temp-dir';

/**
 * A host's private key stored as text (web mode's key login) is a secret in a configuration
 * export: a plain YAML export and a bundle without secrets leave it out; a bundle with
 * secrets carries it sealed to the export passphrase, and an import stores it sealed in the
 * new site's vault, where the host logs in with it.
 */
const VAULT = 'vault passphrase for the site';
const EXPORT_PASSPHRASE = 'four unrelated words here';
const KEY_PASSPHRASE = 'key passphrase 4Rt';

const scratch = makeTempDir('sutazai-config-key-text-');
const sites: ConfigSite[] = [];
let origin: ConfigSite;
let keyText = '';
let keyLines: string[] = [];

const out = (name: string) => path.join(scratch.path, name);

async function startSite(name: string): Promise<ConfigSite> {
  const site = await startConfigSite(out(name), VAULT);
  sites.push(site);
  return site;
}

/** The host's sealed key, opened through a second connection and a vault of its own (proof it is sealed, not lost). */
function revealStoredKey(dataDir: string, hostName: string): string | null {
  const db = new Database(path.join(dataDir, 'sutazai.db'));
  try {
    const row = db.prepare('SELECT key_secret_id AS id FROM hosts WHERE name = ?').get(hostName) as { id: number | null } | undefined;
    if (!row || row.id === null) return null;
    const vault = createSecretVault(db);
    vault.unlock({ kind: 'passphrase', passphrase: VAULT });
    return vault.reveal(row.id, PRIVATE_KEY_PURPOSE);
  } finally {
    db.close();
  }
}

function holdsKey(bytes: Buffer): boolean {
  return keyLines.some((line) => bytes.includes(line)) || bytes.includes(KEY_PASSPHRASE);
}

beforeAll(async () => {
  const keyFile = out('id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', KEY_PASSPHRASE, '-C', 'config-test', '-f', keyFile]);
  keyText = fs.readFileSync(keyFile, 'utf8');
  keyLines = keyText.split('\n').filter((line) => line.length >= 40);
  origin = await startSite('origin');
  await origin.api.call('hosts.add', {
    name: 'db-text',
    address: '198.18.41.2',
    user: 'sutazai',
    auth: { method: 'keyText', privateKey: keyText, passphrase: KEY_PASSPHRASE },
  });
}, 120_000);

afterAll(async () => {
  for (const site of sites) await closeConfigSite(site);
  scratch.remove();
});

describe('a private key stored as text, in configuration exports', () => {
  it('is left out of a YAML export and a bundle without secrets', async () => {
    const yaml = await origin.api.call('configBundles.export', { path: out('plain.yaml'), format: 'yaml' });
    expect(yaml.secrets).toBe(0);
    const text = fs.readFileSync(out('plain.yaml'));
    expect(holdsKey(text)).toBe(false);
    expect(text.toString('utf8')).toMatch(/auth: key\n/);
    expect(text.toString('utf8')).toMatch(/keyPath: null\n/);
    const bundle = await origin.api.call('configBundles.export', { path: out('plain.sutazai-config'), format: 'bundle' });
    expect(bundle.secrets).toBe(0);
    expect(holdsKey(fs.readFileSync(out('plain.sutazai-config')))).toBe(false);
  });

  it('travels sealed to the export passphrase with secrets, and is stored sealed where it is imported', async () => {
    const file = out('with-secrets.sutazai-config');
    const exported = await origin.api.call('configBundles.export', { path: file, format: 'bundle', secretsPassphrase: EXPORT_PASSPHRASE });
    // The key and its passphrase.
    expect(exported.secrets).toBe(2);
    expect(holdsKey(fs.readFileSync(file))).toBe(false);
    const read = await readConfigFile(file);
    expect(read.kind === 'bundle' && read.secretsText).toContain('host/db-text/key');

    const site = await startSite('fresh');
    const review = await site.api.call('configBundles.review', { path: file, secretsPassphrase: EXPORT_PASSPHRASE });
    const item = review.items.find((i) => i.id === 'host:db-text');
    expect(item?.changes.map((c) => c.field)).toEqual(expect.arrayContaining(['private key', 'login secret']));
    expect(JSON.stringify(review)).not.toContain(keyLines[0]!);
    await site.api.call('configBundles.import', {
      path: file,
      sha256: fileSha256(file),
      items: 'all',
      trustExporter: exported.signedBy!,
      secretsPassphrase: EXPORT_PASSPHRASE,
    });
    const [host] = (await site.api.call('hosts.list', {})).filter((h) => h.name === 'db-text');
    expect(host).toMatchObject({ authMethod: 'key', keyPath: null, keyStored: true, hasSecret: true });
    expect(revealStoredKey(site.dir, 'db-text')).toBe(keyText);
    for (const name of fs.readdirSync(site.dir).filter((n) => n.startsWith('sutazai.db')))
      expect(holdsKey(fs.readFileSync(path.join(site.dir, name))), name).toBe(false);
  });
});

describe('a hostile private key in a bundle (one asking for 100000 bcrypt rounds)', () => {
  /** A host whose stored key an older version let in: its sealed key replaced in the database, as no method would. */
  async function hostWithHostileKey(site: ConfigSite, hostName: string): Promise<string> {
    const cheapFile = out(`${hostName}-key`);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-a', '2', '-N', KEY_PASSPHRASE, '-C', 'config-test', '-f', cheapFile]);
    const cheap = fs.readFileSync(cheapFile, 'utf8');
    await site.api.call('hosts.add', {
      name: hostName,
      address: '198.18.41.3',
      user: 'sutazai',
      auth: { method: 'keyText', privateKey: cheap, passphrase: KEY_PASSPHRASE },
    });
    const hostile = withKdfRounds(cheap, 100_000);
    const vault = createSecretVault(site.db);
    vault.unlock({ kind: 'passphrase', passphrase: VAULT });
    const id = vault.store(PRIVATE_KEY_PURPOSE, hostile, Date.now());
    site.db.prepare('UPDATE hosts SET key_secret_id = ? WHERE name = ?').run(id, hostName);
    return hostile;
  }

  it('is refused at review and at import, naming the file and the host, and nothing is imported', async () => {
    const exporting = await startSite('hostile-origin');
    await hostWithHostileKey(exporting, 'db-hostile');
    const file = out('hostile.sutazai-config');
    const exported = await exporting.api.call('configBundles.export', {
      path: file,
      format: 'bundle',
      secretsPassphrase: EXPORT_PASSPHRASE,
    });
    const site = await startSite('hostile-import');
    const refusal = (promise: Promise<unknown>) =>
      promise.then(
        () => null,
        (error: unknown) => error as ApiError,
      );
    // The old code stored the key unparsed; the site's first login with it then held the backend for good.
    for (const error of [
      await refusal(site.api.call('configBundles.review', { path: file, secretsPassphrase: EXPORT_PASSPHRASE })),
      await refusal(
        site.api.call('configBundles.import', {
          path: file,
          sha256: fileSha256(file),
          items: 'all',
          trustExporter: exported.signedBy!,
          secretsPassphrase: EXPORT_PASSPHRASE,
        }),
      ),
    ]) {
      expect(error).not.toBeNull();
      expect(error!.code).toBe('KEY_TEXT_INVALID');
      expect(error!.message).toContain(file);
      expect(error!.message).toContain('host db-hostile');
      expect(error!.message).toMatch(/100000 bcrypt rounds/);
      expect(error!.remedy).toMatch(/ssh-keygen -p -a 64 -f COPY/);
    }
    expect((await site.api.call('hosts.list', {})).map((h) => h.name)).not.toContain('db-hostile');
  }, 120_000);

  it('stored by an older version, is refused at login before anything is decrypted', async () => {
    const site = sites.find((s) => s.dir.endsWith('hostile-origin'))!;
    const [host] = (await site.api.call('hosts.list', {})).filter((h) => h.name === 'db-hostile');
    const error = await site.api.call('hosts.probe', { hostId: host!.id }).then(
      () => null,
      (caught: unknown) => caught as ApiError,
    );
    expect(error?.code).toBe('KEY_TEXT_INVALID');
    expect(error?.message).toMatch(/100000 bcrypt rounds/);
  }, 60_000);
});
