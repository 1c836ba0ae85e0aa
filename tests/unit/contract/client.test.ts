import { describe, expect, it } from 'vitest';
import { ApiError, createApiClient, type Transport } from '../../../electron/contract';

function fakeTransport() {
  let onMessage: (text: string) => void = () => {};
  let onClose: (reason: string) => void = () => {};
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- raw wire messages, asserted with toMatchObject
  const sent: any[] = [];
  const transport: Transport = {
    send: (text) => sent.push(JSON.parse(text)),
    onMessage: (h) => (onMessage = h),
    onClose: (h) => (onClose = h),
    close: () => onClose('closed by client'),
  };
  return { transport, sent, deliver: (m: unknown) => onMessage(JSON.stringify(m)), drop: (r: string) => onClose(r) };
}

describe('api client', () => {
  it('matches responses to calls by id and parses results against the contract', async () => {
    const { transport, sent, deliver } = fakeTransport();
    const client = createApiClient(transport);
    const call = client.call('app.info', {});
    expect(sent[0]).toMatchObject({ type: 'request', method: 'app.info', params: {} });
    deliver({
      type: 'response',
      id: sent[0].id,
      ok: true,
      result: { version: '1', mode: 'web', dataDir: '/x', platform: 'p', startedAt: 1 },
    });
    await expect(call).resolves.toMatchObject({ version: '1', mode: 'web' });
  });

  it('rejects with the ApiError the server sent', async () => {
    const { transport, sent, deliver } = fakeTransport();
    const call = createApiClient(transport).call('hosts.get', { hostId: 3 });
    deliver({ type: 'response', id: sent[0].id, ok: false, error: { code: 'HOST_NOT_FOUND', message: 'm', remedy: 'r' } });
    await expect(call).rejects.toMatchObject({ code: 'HOST_NOT_FOUND', message: 'm', remedy: 'r' });
  });

  it('refuses a result that does not match the contract', async () => {
    const { transport, sent, deliver } = fakeTransport();
    const call = createApiClient(transport).call('hosts.list', {});
    deliver({ type: 'response', id: sent[0].id, ok: true, result: [{ id: 'nope' }] });
    await expect(call).rejects.toMatchObject({ code: 'BAD_MESSAGE' });
  });

  it('routes events to their subscription and ignores payloads that break the contract', async () => {
    const { transport, sent, deliver } = fakeTransport();
    const client = createApiClient(transport);
    const got: unknown[] = [];
    const pending = client.subscribe('metrics.live', { hostId: 1 }, (p) => got.push(p));
    deliver({ type: 'response', id: sent[0].id, ok: true, result: { subscriptionId: 's1' } });
    const unsubscribe = await pending;
    deliver({ type: 'event', subscriptionId: 's1', event: 'metrics.live', payload: { hostId: 1, t: 1, values: { 'cpu.percent': 2 } } });
    deliver({ type: 'event', subscriptionId: 's1', event: 'metrics.live', payload: { hostId: 'bad' } });
    deliver({ type: 'event', subscriptionId: 'other', event: 'metrics.live', payload: { hostId: 1, t: 1, values: {} } });
    expect(got).toEqual([{ hostId: 1, t: 1, values: { 'cpu.percent': 2 } }]);
    const done = unsubscribe();
    expect(sent[1]).toMatchObject({ type: 'unsubscribe', subscriptionId: 's1' });
    deliver({ type: 'response', id: sent[1].id, ok: true, result: {} });
    await done;
  });

  it('fails pending calls with DISCONNECTED when the pipe closes, and later calls at once', async () => {
    const { transport, drop } = fakeTransport();
    const client = createApiClient(transport);
    const call = client.call('hosts.list', {});
    drop('backend exited');
    await expect(call).rejects.toBeInstanceOf(ApiError);
    await expect(call).rejects.toMatchObject({ code: 'DISCONNECTED' });
    await expect(client.call('hosts.list', {})).rejects.toMatchObject({ code: 'DISCONNECTED' });
  });
});
