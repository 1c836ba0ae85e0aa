import path from 'node:path';
import type { ApiClient } from '../../electron/contract';
import { startInstallBackend, VAULT_PASSPHRASE } from './install-lab';
import { installLabFleet, openLabFleet, type LabFleet, type LabFleetHost } from './lab-fleet';
import type { Defer } from './suite-set-up';
import type { TestLab } from './test-hosts/test-hosts';
import { connectApiClient, openWebModeSession, type WebModeSession } from './web-mode-session';

/**
 * What the e2e tests of an installed host start with: SutazAI installed for real on one test
 * host (by a backend without links, closed once the apply is done), then `npm run web` on
 * that data directory with the vault unlocked, so its link to the host comes up, Debian's
 * Chromium on it, and a client of the same server's API beside the page.
 */
export interface InstalledWebMode {
  host: LabFleetHost;
  /** The bundle installed and the kit that built it (its signing key is trusted): another bundle of the same signer imports without asking. */
  fleet: LabFleet;
  /** The host's id in the inventory. */
  hostId: number;
  /** The app's data directory: `<dir>/data`. */
  dataDir: string;
  session: WebModeSession;
  api: ApiClient;
}

/** Undone through `defer`: the client, the session, then what openLabFleet defers (the host's runtime, the kit). */
export async function openInstalledWebMode(
  defer: Defer,
  lab: TestLab,
  options: {
    dir: string;
    install: string;
    bundleName: string;
    hostName: string;
    problems: string[];
    /** The install file's own configuration values (installLabFleet's values). */
    values?: Record<string, unknown>;
    /** Changes the store or the data directory after the apply, before web mode opens it (the store is closed then). */
    prepare?: (dataDir: string) => void;
  },
): Promise<InstalledWebMode> {
  const dataDir = path.join(options.dir, 'data');
  const fleet = await openLabFleet(defer, lab, { dir: options.dir, bundleName: options.bundleName, hostNames: [options.hostName] });
  const backend = await startInstallBackend(dataDir, { fleetLinks: false });
  let hostId: number;
  try {
    hostId = (await installLabFleet(backend, fleet, { install: options.install, ...(options.values ? { values: options.values } : {}) }))
      .hostIds[0]!;
  } finally {
    await backend.close();
  }
  options.prepare?.(dataDir);
  const session = await openWebModeSession({
    dataDir,
    env: { SUTAZAI_PASSPHRASE: VAULT_PASSPHRASE },
    problems: options.problems,
    uiTimeoutMs: 60_000,
  });
  defer(() => session.close());
  const api = await connectApiClient(session.url);
  defer(() => api.close());
  return { host: fleet.hosts[0]!, fleet, hostId, dataDir, session, api };
}
