import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostFacts } from '../../../electron/contract';
import { createFactsRepo } from '../../../electron/backend/store/facts-repo';
import { createHostsRepo } from '../../../electron/backend/store/hosts-repo';
import { openStore, type Store } from '../../../electron/backend/store/open-store';

let dir: string;
let store: Store;
let hostId: number;
let warnings: Array<{ details: object; message: string }>;
const logger = {
  info: () => {},
  warn: (details: object, message: string) => warnings.push({ details, message }),
  error: () => {},
};

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-facts-repo-'));
  store = openStore({ dataDir: dir });
  hostId = createHostsRepo(store.db).ensureLocal(1).id;
  warnings = [];
});

afterEach(() => {
  try {
    store?.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function facts(probedAt: number, hostname = 'workstation'): HostFacts {
  return {
    probedAt,
    source: 'local',
    os: {
      platform: 'linux',
      family: 'debian',
      distro: 'Debian GNU/Linux',
      release: '12',
      codename: 'bookworm',
      kernel: '6.1.0',
      arch: 'x64',
      hostname,
    },
    cpu: { model: 'EPYC', vendor: 'AMD', sockets: 1, cores: 8, threads: 16, speedGhz: 3.1, flags: ['avx2'] },
    memory: { totalBytes: 64e9, swapTotalBytes: 0 },
    disks: [{ device: '/dev/nvme0n1', model: 'X', type: 'NVMe', sizeBytes: 1e12, rotational: false }],
    filesystems: null,
    gpus: [],
    network: null,
    unknown: [{ field: 'filesystems', reason: 'df not found' }],
  };
}

const insertRaw = (probedAt: number, json: string) =>
  store.db.prepare('INSERT INTO facts_snapshots (host_id, probed_at, facts) VALUES (?, ?, ?)').run(hostId, probedAt, json);

describe('facts repository', () => {
  it('returns null before any snapshot', () => {
    expect(createFactsRepo(store.db).latest(hostId)).toBeNull();
    expect(createFactsRepo(store.db).history(hostId, 10)).toEqual([]);
  });

  it('round-trips facts and returns the newest by probe time', () => {
    const repo = createFactsRepo(store.db);
    repo.save(hostId, facts(2000, 'second'));
    repo.save(hostId, facts(3000, 'third'));
    repo.save(hostId, facts(1000, 'first')); // saved last, probed first
    expect(repo.latest(hostId)).toEqual(facts(3000, 'third'));
  });

  it('lists history newest first, up to the limit', () => {
    const repo = createFactsRepo(store.db);
    for (const t of [1000, 4000, 2000, 3000]) repo.save(hostId, facts(t));
    expect(repo.history(hostId, 3).map((entry) => entry.probedAt)).toEqual([4000, 3000, 2000]);
    expect(repo.history(hostId, 3)[0]?.facts).toEqual(facts(4000));
    expect(repo.history(hostId, 0)).toEqual([]);
  });

  it('skips and logs snapshots that no longer parse instead of failing', () => {
    const repo = createFactsRepo(store.db, logger);
    repo.save(hostId, facts(1000, 'good-old'));
    insertRaw(2000, JSON.stringify({ ...facts(2000), os: { platform: 'linux' } }));
    insertRaw(3000, '{not json');
    expect(repo.latest(hostId)).toEqual(facts(1000, 'good-old'));
    expect(warnings.map((w) => w.message)).toEqual([
      'skipping a facts snapshot that is not JSON',
      'skipping a facts snapshot that no longer matches the facts schema',
    ]);
    expect(repo.history(hostId, 5).map((entry) => entry.facts.os.hostname)).toEqual(['good-old']);
  });

  it('keeps hosts apart', () => {
    const repo = createFactsRepo(store.db);
    const otherId = Number(
      store.db.prepare("INSERT INTO hosts (name, kind, address, created_at) VALUES ('db-2', 'ssh', '198.18.0.2', 1)").run().lastInsertRowid,
    );
    repo.save(otherId, facts(5000, 'db-2'));
    repo.save(hostId, facts(1000, 'workstation'));
    expect(repo.latest(hostId)?.os.hostname).toBe('workstation');
    expect(repo.latest(otherId)?.os.hostname).toBe('db-2');
  });

  it('refuses facts for a host that does not exist', () => {
    expect(() => createFactsRepo(store.db).save(hostId + 100, facts(1))).toThrow(expect.objectContaining({ code: 'HOST_NOT_FOUND' }));
  });

  it('drops a host’s snapshots with the host', () => {
    const repo = createFactsRepo(store.db);
    repo.save(hostId, facts(1000));
    store.db.prepare('DELETE FROM hosts WHERE id = ?').run(hostId);
    expect(repo.latest(hostId)).toBeNull();
  });
});
