// `audit.verifyHost` with an install (`sutazai audit verify --install`) reports each host: a
// host whose runtime audit log cannot be read (here: recorded hosts that no SSH server
// answers for) is listed with its code, message and remedy, and the call goes on to the next,
// where it used to stop at the first. One host asked for by name still fails the call. Real
// backend and SQLite store; the hosts are recorded, never reached.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../../electron/backend/app/backend';
import { openStore } from '../../../electron/backend/store/open-store';
import type { ApiClient } from '../../../electron/contract';
import { codeOf } from '../../support/api-pipes';
import { startQuietBackend } from '../../support/backend-harness';
import { seedRecordedInstalls } from '../../support/recorded-installs';
import { makeTempDir } from '../../support/temp-dir';

const tmp = makeTempDir('sutazai-host-audit-each-');
let backend: Backend;
let api: ApiClient;

beforeAll(async () => {
  const store = openStore({ dataDir: tmp.path });
  try {
    seedRecordedInstalls(store.db, [
      {
        name: 'lab',
        hosts: [
          { name: 'lab-1', address: '127.0.0.1', role: 'both', state: 'installed' },
          { name: 'lab-2', address: '127.0.0.1', role: 'agent', state: 'installed' },
        ],
      },
    ]);
  } finally {
    store.close();
  }
  backend = await startQuietBackend(tmp.path);
  api = backend.openClient('admin');
}, 60_000);

afterAll(async () => {
  api?.close();
  await backend?.close();
  tmp.remove();
});

describe('runtime audit logs of an install', () => {
  it('reports every host it could not read, each with why, instead of stopping at the first', async () => {
    const result = await api.call('audit.verifyHost', { install: 'lab' });
    expect(result.hosts).toEqual([]);
    expect(result.unread.map((entry) => entry.host)).toEqual(['lab-1', 'lab-2']);
    for (const entry of result.unread) {
      expect(entry.error.code).toMatch(/^[A-Z_]+$/);
      expect(entry.error.message.length).toBeGreaterThan(0);
      expect(entry.error.remedy.length).toBeGreaterThan(0);
    }
    // One host named: its failure is the call's.
    expect(await codeOf(api.call('audit.verifyHost', { host: 'lab-2' }))).toBe(result.unread[1]!.error.code);
  });
});
