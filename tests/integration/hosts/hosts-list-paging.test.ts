// hosts.list over the real WebSocket answers one page at a time (id order, `after` and
// `limit`), so a big inventory is never one multi-megabyte answer; listAllHosts follows
// the pages to the whole list.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiError,
  createApiClient,
  HOSTS_PAGE_SIZE,
  latestPreflightsOfAllHosts,
  listAllHosts,
  MAX_HOSTS_PAGE,
  type ApiClient,
} from '../../../electron/contract';
import { startTestBackend, type RunningBackend } from '../../support/backend-harness';
import { openSocket, wsTransport } from '../../support/ws-peer';

const COUNT = HOSTS_PAGE_SIZE + 25;
let running: RunningBackend;
let client: ApiClient;

beforeAll(async () => {
  running = await startTestBackend({ sampleLocalHost: false, probeAtStart: false });
  client = createApiClient(wsTransport(await openSocket(running.apiUrl, running.token)));
  const text = `hosts:\n${Array.from({ length: COUNT }, (_, i) => `  - { name: paged-${i}, address: 10.8.${Math.floor(i / 250)}.${(i % 250) + 1} }\n`).join('')}`;
  const imported = await client.call('hosts.import', { text, fileName: 'hosts.yaml' });
  expect(imported.errors).toEqual([]);
}, 60_000);

afterAll(async () => {
  client?.close();
  await running?.stop();
});

describe('hosts.list paging', () => {
  it('answers at most HOSTS_PAGE_SIZE hosts by default, in id order', async () => {
    const first = await client.call('hosts.list', {});
    expect(first).toHaveLength(HOSTS_PAGE_SIZE);
    expect(first.map((h) => h.id)).toEqual([...first.map((h) => h.id)].sort((a, b) => a - b));
  });

  it('continues after a cursor and ends with a short page', async () => {
    const all = await client.call('hosts.list', { limit: MAX_HOSTS_PAGE });
    const page = await client.call('hosts.list', { after: all[9]!.id, limit: 5 });
    expect(page.map((h) => h.id)).toEqual(all.slice(10, 15).map((h) => h.id));
    const last = await client.call('hosts.list', { after: all.at(-2)!.id, limit: 5 });
    expect(last.map((h) => h.id)).toEqual([all.at(-1)!.id]);
  });

  it('follows every page to the whole inventory', async () => {
    const calls: Array<{ after?: number; limit: number }> = [];
    const hosts = await listAllHosts((page) => {
      calls.push(page);
      return client.call('hosts.list', page);
    }, 100);
    expect(hosts.map((h) => h.name).filter((name) => name.startsWith('paged-'))).toHaveLength(COUNT);
    expect(new Set(hosts.map((h) => h.id)).size).toBe(hosts.length);
    expect(calls.length).toBe(Math.floor(hosts.length / 100) + 1);
    expect(calls[0]).toEqual({ limit: 100 });
  });

  it('refuses a page bigger than MAX_HOSTS_PAGE with BAD_PARAMS', async () => {
    const error = await client.call('hosts.list', { limit: MAX_HOSTS_PAGE + 1 }).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('BAD_PARAMS');
  });
});

describe("preflight.latest paging (the hosts list's preflight column)", () => {
  it('answers one inventory page of verdicts at a time, with a cursor, and the pages add up to every judged host once', async () => {
    const all = await listAllHosts((page) => client.call('hosts.list', page), MAX_HOSTS_PAGE);
    const judged = [all[0]!, all[150]!, all.at(-1)!];
    await client.call('preflight.run', { hostIds: judged.map((h) => h.id), profile: 'agent' });

    const first = await client.call('preflight.latest', { limit: 100 });
    expect(first.next).toBe(all[99]!.id);
    expect(first.results.map((r) => r.hostId)).toEqual([all[0]!.id]);
    // A verdict, not the checks: the answer stays small however many checks a profile has.
    expect(Object.keys(first.results[0]!).sort()).toEqual(['counts', 'hostId', 'hostName', 'outcome', 'profile', 'ranAt']);

    const calls: Array<{ after?: number }> = [];
    const every = await latestPreflightsOfAllHosts((page) => {
      calls.push(page);
      return client.call('preflight.latest', { ...page, limit: 100 });
    });
    expect(every.map((r) => r.hostId)).toEqual(judged.map((h) => h.id));
    expect(calls).toHaveLength(Math.floor(all.length / 100) + 1);
    expect(calls[0]).toEqual({});
  });
});
