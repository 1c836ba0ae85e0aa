import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ApiClient } from '../../electron/contract';
import { startBackend, type Backend } from '../../electron/backend/app/backend';

/** A control center of a configuration-bundle test: a real backend on its own data directory, its vault open. */
export interface ConfigSite {
  dir: string;
  backend: Backend;
  api: ApiClient;
  /** A second connection to the site's database, for rows no method writes (pins, stand-in bundles, releases). */
  db: Database.Database;
}

export async function startConfigSite(dir: string, vaultPassphrase: string): Promise<ConfigSite> {
  fs.mkdirSync(dir);
  const backend = await startBackend({
    dataDir: dir,
    logLevel: 'warn',
    mode: 'test',
    logToConsole: false,
    sampleLocalHost: false,
    probeAtStart: false,
    fleetLinks: false,
    evaluateAlerts: false,
    vaultKey: { kind: 'passphrase', passphrase: vaultPassphrase },
  });
  return { dir, backend, api: backend.openClient('test'), db: new Database(path.join(dir, 'sutazai.db')) };
}

export async function closeConfigSite(site: ConfigSite): Promise<void> {
  site.api.close();
  site.db.close();
  await site.backend.close();
}

/** The SHA-256 an import names: the file's, as its review reports it. */
export const fileSha256 = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
