import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { Alert, AlertChange } from '../../electron/contract';
import type { AlertInputs, CertificateExpiries } from '../../electron/backend/fleet/alerts/alert-inputs';
import { createAlertService, type AlertService, type AlertServiceOptions } from '../../electron/backend/fleet/alerts/alert-service';
import { createAlertsRepo } from '../../electron/backend/fleet/alerts/alerts-repo';
import { createFleetReadings, type FleetReadings } from '../../electron/backend/fleet/alerts/fleet-readings';
import type { LinkState } from '../../electron/backend/fleet/link/link-types';
import { createHostsRepo } from '../../electron/backend/store/hosts-repo';
import { openStore, type Store } from '../../electron/backend/store/open-store';
import { makeTempDir } from './temp-dir';

/** A real store file in a temp directory, with one managed host in its inventory: gpu-1 at 10.0.0.5. */
export interface AlertTestStore {
  readonly dir: ReturnType<typeof makeTempDir>;
  readonly store: Store;
  readonly hostId: number;
  /** Closes the store and removes the directory. */
  close(): void;
}

export function openAlertTestStore(prefix: string): AlertTestStore {
  const dir = makeTempDir(prefix);
  const store = openStore({ dataDir: dir.path });
  const hostId = insertHost(store.db, 'gpu-1', '10.0.0.5');
  return {
    dir,
    store,
    hostId,
    close() {
      store.close();
      dir.remove();
    },
  };
}

function insertHost(db: Database.Database, name: string, address: string): number {
  return Number(
    db.prepare("INSERT INTO hosts (name, kind, address, created_at) VALUES (?, 'ssh', ?, 1)").run(name, address).lastInsertRowid,
  );
}

/** Writes `yaml` as the one rule file of `<dir>/rules` (made when missing), and returns that folder. */
export function writeRules(dir: string, yaml: string, file = 'rules.yaml'): string {
  const folder = path.join(dir, 'rules');
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, file), yaml);
  return folder;
}

export interface AlertServiceOnOptions {
  db: Database.Database;
  readings: FleetReadings;
  ruleFolder: string;
  clock: () => number;
  describeHost: AlertInputs['describeHost'];
  /** Default: no links. */
  links?: () => readonly LinkState[];
  /** Default: none. */
  certificates?: CertificateExpiries;
  /** Default: dropped. */
  onChange?: (change: AlertChange, alert: Alert) => void;
  /** Each warning's message; default: dropped. */
  warn?: (message: string) => void;
  staleAfterMs?: number;
}

/** The real alert service over a store, its readings fed by the test (samples, process states) instead of links. */
export function alertServiceOn(options: AlertServiceOnOptions): AlertService {
  const serviceOptions: AlertServiceOptions = {
    repo: createAlertsRepo(options.db),
    inputs: {
      links: options.links ?? (() => []),
      gauges: options.readings,
      processes: options.readings,
      certificates: options.certificates ?? { list: () => [] },
      describeHost: options.describeHost,
    },
    ruleFolders: [options.ruleFolder],
    clock: options.clock,
    onChange: options.onChange ?? (() => {}),
    logger: { warn: (_details, message) => options.warn?.(message), info: () => {} },
  };
  if (options.staleAfterMs !== undefined) serviceOptions.staleAfterMs = options.staleAfterMs;
  return createAlertService(serviceOptions);
}

/**
 * What a serving backend's evaluator would have stored, written by this process through its
 * own connection to the store file: MemoryHigh (memory over 90%) firing on each host named,
 * `local` being this machine and any other a managed host added under that name.
 */
export function fireMemoryAlerts(dataDir: string, rulesDir: string, hosts: ReadonlyArray<{ name: string; percent: number }>): void {
  const store = openStore({ dataDir });
  try {
    const names = new Map<number, string>();
    const readings = createFleetReadings();
    for (const { name, percent } of hosts) {
      const hostId = name === 'local' ? createHostsRepo(store.db).ensureLocal(Date.now()).id : insertHost(store.db, name, '192.0.2.8');
      names.set(hostId, name);
      readings.observeSample(hostId, Date.now(), [['memory.used_percent', percent]]);
    }
    fs.mkdirSync(rulesDir, { recursive: true });
    fs.writeFileSync(
      path.join(rulesDir, 'memory.yaml'),
      'rules:\n  - name: MemoryHigh\n    kind: memory-usage\n    above: 90\n    severity: critical\n',
    );
    alertServiceOn({
      db: store.db,
      readings,
      ruleFolder: rulesDir,
      clock: Date.now,
      describeHost: (id) => ({ hostName: names.get(id) ?? 'local', installName: null }),
    }).evaluate();
  } finally {
    store.close();
  }
}
