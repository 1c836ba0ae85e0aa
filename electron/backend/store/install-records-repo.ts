import type Database from 'better-sqlite3';
import type { InstallRecord } from '../../contract';

interface RawInstall {
  id: number;
  name: string;
  bundleId: number;
  bundleName: string | null;
  bundleVersion: string | null;
  createdAt: number;
  updatedAt: number;
}

interface RawHost {
  installId: number;
  hostId: number;
  hostName: string;
  role: InstallRecord['hosts'][number]['role'];
  gpu: number;
  state: InstallRecord['hosts'][number]['state'];
  mode: InstallRecord['hosts'][number]['mode'];
  rootDir: string | null;
  service: InstallRecord['hosts'][number]['service'];
}

interface RawRelease {
  hostId: number;
  installId: number;
  version: string;
  state: 'current' | 'previous' | 'failed';
  path: string;
  bundleSha256: string;
  installedAt: number;
}

export interface InstallRecordsRepo {
  list(): InstallRecord[];
  get(name: string): InstallRecord | null;
  installId(name: string): number | null;
  /** What the host's step printed last (or why it failed); null before it ever ran. */
  stepOutput(installId: number, hostId: number, step: string): string | null;
}

/**
 * Read-only views over what the installs wrote (installs, install_hosts, host_releases,
 * install_steps), for the API: each install with its hosts and their releases, and the
 * newest output of a host's step.
 */
export function createInstallRecordsRepo(db: Database.Database): InstallRecordsRepo {
  const installColumns = `i.id, i.name, i.bundle_id AS bundleId, b.name AS bundleName, b.version AS bundleVersion, i.created_at AS createdAt, i.updated_at AS updatedAt`;
  const all = db.prepare<[], RawInstall>(
    `SELECT ${installColumns} FROM installs i LEFT JOIN bundles b ON b.id = i.bundle_id ORDER BY i.updated_at DESC, i.id DESC`,
  );
  const byName = db.prepare<[string], RawInstall>(
    `SELECT ${installColumns} FROM installs i LEFT JOIN bundles b ON b.id = i.bundle_id WHERE i.name = ?`,
  );
  const hostsOf = db.prepare<[number], RawHost>(
    `SELECT ih.install_id AS installId, ih.host_id AS hostId, h.name AS hostName, ih.role, ih.gpu, ih.state, ih.mode, ih.root_dir AS rootDir, ih.service
     FROM install_hosts ih JOIN hosts h ON h.id = ih.host_id WHERE ih.install_id = ? ORDER BY h.name`,
  );
  const releasesOf = db.prepare<[number], RawRelease>(
    `SELECT host_id AS hostId, install_id AS installId, version, state, path, bundle_sha256 AS bundleSha256, installed_at AS installedAt
     FROM host_releases WHERE install_id = ? ORDER BY installed_at DESC, id DESC`,
  );
  // The step started last is the one of the apply in progress (every apply restarts each step's row).
  const stepOutput = db.prepare<[number, number, string], { output: string }>(
    'SELECT output FROM install_steps WHERE install_id = ? AND host_id = ? AND step = ? ORDER BY started_at DESC, id DESC LIMIT 1',
  );
  const installIdByName = db.prepare<[string], { id: number }>('SELECT id FROM installs WHERE name = ?');

  function toRecord(raw: RawInstall): InstallRecord {
    const releases = releasesOf.all(raw.id);
    return {
      id: raw.id,
      name: raw.name,
      bundle:
        raw.bundleName !== null && raw.bundleVersion !== null
          ? { id: raw.bundleId, name: raw.bundleName, version: raw.bundleVersion }
          : null,
      createdAt: raw.createdAt,
      updatedAt: raw.updatedAt,
      hosts: hostsOf.all(raw.id).map((host) => ({
        hostId: host.hostId,
        hostName: host.hostName,
        role: host.role,
        gpu: host.gpu === 1,
        state: host.state,
        mode: host.mode,
        rootDir: host.rootDir,
        service: host.service,
        releases: releases
          .filter((r) => r.hostId === host.hostId)
          .map(({ version, state, path, bundleSha256, installedAt }) => ({ version, state, path, bundleSha256, installedAt })),
      })),
    };
  }

  return {
    list: (): InstallRecord[] => all.all().map(toRecord),
    get(name: string): InstallRecord | null {
      const raw = byName.get(name);
      return raw ? toRecord(raw) : null;
    },
    installId: (name: string): number | null => installIdByName.get(name)?.id ?? null,
    stepOutput: (installId: number, hostId: number, step: string): string | null => stepOutput.get(installId, hostId, step)?.output ?? null,
  };
}
