// The in-process pipe (the CLI's) is the same dispatcher as the WebSocket: the same answers,
// the same structured refusals, and a closed client fails its calls instead of hanging.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../../electron/contract';
import { startTestBackendWithClient, type RunningBackend } from '../../support/backend-harness';

let running: RunningBackend;
let overSocket: ApiClient;
let inProcess: ApiClient;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ running, client: overSocket, stop } = await startTestBackendWithClient({ sampleLocalHost: false, probeAtStart: false }));
  inProcess = running.backend.openClient('test');
});

afterAll(async () => {
  inProcess?.close();
  await stop?.();
});

describe('a client on the in-process pipe', () => {
  it('gets what the WebSocket client gets', async () => {
    const listed = await inProcess.call('hosts.list', {});
    expect(listed.map((h) => h.kind)).toEqual(['local']);
    expect(listed).toEqual(await overSocket.call('hosts.list', {}));
    expect(await inProcess.call('hosts.find', { host: 'local' })).toEqual(
      await overSocket.call('hosts.find', { host: String(listed[0]!.id) }),
    );
  });

  it('is refused a bad argument by the dispatcher, with the same code, message and remedy', async () => {
    const refusal = (client: ApiClient) =>
      client.call('hosts.get', { hostId: -1 }).then(
        () => null,
        (error: unknown) => error,
      );
    const [here, there] = await Promise.all([refusal(inProcess), refusal(overSocket)]);
    expect(here).toMatchObject({ code: 'BAD_PARAMS', message: expect.stringMatching(/^Bad arguments for hosts\.get: hostId: /) });
    expect(here).toMatchObject({ code: (there as { code: string }).code, message: (there as Error).message });
  });

  it('fails calls once it is closed', async () => {
    const client = running.backend.openClient('test-closed');
    expect((await client.call('app.info', {})).mode).toBe('test');
    client.close();
    await expect(client.call('app.info', {})).rejects.toMatchObject({ code: 'DISCONNECTED' });
  });
});
