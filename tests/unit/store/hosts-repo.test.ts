import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHostsRepo } from '../../../electron/backend/store/hosts-repo';
import { openStore, type Store } from '../../../electron/backend/store/open-store';

let dir: string;
let store: Store;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-hosts-repo-'));
  store = openStore({ dataDir: dir });
});

afterEach(() => {
  try {
    store?.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const addSshHost = (name: string, address: string, createdAt: number) =>
  Number(
    store.db.prepare("INSERT INTO hosts (name, kind, address, created_at) VALUES (?, 'ssh', ?, ?)").run(name, address, createdAt)
      .lastInsertRowid,
  );

describe('hosts repository', () => {
  it('creates the local host once and returns the same row after', () => {
    const hosts = createHostsRepo(store.db);
    const first = hosts.ensureLocal(1000);
    expect(first).toMatchObject({
      id: expect.any(Number),
      name: 'local',
      kind: 'local',
      address: '127.0.0.1',
      createdAt: 1000,
      authMethod: 'none',
      labels: [],
    });
    const again = hosts.ensureLocal(5000);
    expect(again).toEqual(first);
    expect(hosts.list()).toHaveLength(1);
  });

  it('keeps the local host across a reopen', () => {
    const id = createHostsRepo(store.db).ensureLocal(1000).id;
    store.close();
    store = openStore({ dataDir: dir });
    expect(createHostsRepo(store.db).ensureLocal(9999)).toMatchObject({ id, createdAt: 1000 });
  });

  it('lists, gets and finds hosts', () => {
    const hosts = createHostsRepo(store.db);
    const local = hosts.ensureLocal(1);
    const dbId = addSshHost('db-2', '198.18.0.2', 2);
    expect(hosts.list()).toEqual([
      local,
      expect.objectContaining({ id: dbId, name: 'db-2', kind: 'ssh', address: '198.18.0.2', createdAt: 2, port: 22 }),
    ]);
    expect(hosts.get(dbId)?.name).toBe('db-2');
    expect(hosts.findByName('db-2')?.id).toBe(dbId);
  });

  it('inserts, updates and removes SSH hosts, labels round-tripping as a list', () => {
    const hosts = createHostsRepo(store.db);
    const bastion = hosts.insertSsh(
      {
        name: 'bastion',
        address: '198.18.0.9',
        port: 2222,
        user: 'ops',
        authMethod: 'agent',
        keyPath: null,
        secretId: null,
        sudoSecretId: null,
        jumpHostId: null,
        role: null,
        labels: [],
      },
      5,
    );
    const gpu = hosts.insertSsh(
      {
        name: 'gpu-1',
        address: '198.18.0.10',
        port: 22,
        user: 'root',
        authMethod: 'key',
        keyPath: '/k',
        secretId: null,
        sudoSecretId: null,
        jumpHostId: bastion.id,
        role: 'agent',
        labels: ['gpu', 'rack=b4'],
      },
      6,
    );
    expect(gpu).toMatchObject({
      kind: 'ssh',
      port: 22,
      user: 'root',
      authMethod: 'key',
      jumpHostId: bastion.id,
      role: 'agent',
      labels: ['gpu', 'rack=b4'],
      updatedAt: 6,
    });
    expect(hosts.dependents(bastion.id).map((h) => h.name)).toEqual(['gpu-1']);
    const moved = hosts.update(gpu.id, { address: '198.18.0.11', labels: ['gpu'], jumpHostId: null }, 7);
    expect(moved).toMatchObject({ address: '198.18.0.11', labels: ['gpu'], jumpHostId: null, updatedAt: 7, createdAt: 6 });
    expect(hosts.dependents(bastion.id)).toEqual([]);
    hosts.remove(gpu.id);
    expect(hosts.get(gpu.id)).toBeUndefined();
  });

  it('answers undefined for a host that does not exist', () => {
    const hosts = createHostsRepo(store.db);
    expect(hosts.list()).toEqual([]);
    expect(hosts.get(42)).toBeUndefined();
    expect(hosts.findByName('nope')).toBeUndefined();
  });
});
