import { describe, expect, it, vi } from 'vitest';
import { ApiError, type EventPayload } from '../../../electron/contract';
import {
  createDispatcher,
  type DispatcherOptions,
  type EventSources,
  type MethodHandlers,
} from '../../../electron/backend/server/dispatcher';

const summary = {
  id: 1,
  name: 'local',
  kind: 'local' as const,
  address: '127.0.0.1',
  createdAt: 1,
  lastProbedAt: null,
  os: null,
  cpuModel: null,
  cpuThreads: null,
  memoryBytes: null,
  gpuCount: null,
  port: 22,
  user: '',
  authMethod: 'none' as const,
  keyPath: null,
  keyStored: false,
  hasSecret: false,
  jumpHostId: null,
  role: null,
  labels: [],
  hostKey: null,
  lastProbe: null,
};

function setup(overrides: Partial<MethodHandlers> = {}, options: Pick<DispatcherOptions, 'mayReceive'> = {}) {
  const emitters = new Set<(p: EventPayload<'metrics.live'>) => void>();
  const stopped = vi.fn();
  const handlers = {
    'app.info': () => ({ version: '1', mode: 'test', dataDir: '/d', platform: 'linux-x64', startedAt: 0 }),
    'hosts.list': () => [summary],
    'hosts.get': ({ hostId }) => {
      if (hostId !== 1) throw new ApiError('HOST_NOT_FOUND', 'no such host', 'list the hosts');
      return { host: summary, facts: null };
    },
    'hosts.probe': () => {
      throw new Error('disk on fire');
    },
    'metrics.query': () => ({ tier: '1s', stepMs: 1000, series: [] }),
    ...overrides,
  } as MethodHandlers;
  const sources: EventSources = {
    'metrics.live': (_params, emit) => {
      emitters.add(emit);
      return () => {
        emitters.delete(emit);
        stopped();
      };
    },
    'hosts.changed': () => () => {},
    'probes.progress': () => () => {},
    'installs.progress': () => () => {},
    'installs.runProgress': () => () => {},
    'fleet.logFollow': () => () => {},
    'alerts.changed': () => () => {},
    'events.appended': () => () => {},
    'fleet.linkChanged': () => () => {},
  };
  const logger = { warn: vi.fn(), error: vi.fn() };
  const dispatcher = createDispatcher({ handlers, sources, logger, maxMessageBytes: 1000, ...options });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- raw wire messages, asserted with toMatchObject
  const sent: any[] = [];
  const connection = dispatcher.connect((text) => sent.push(JSON.parse(text)), 'test');
  const settle = () => new Promise((r) => setTimeout(r, 0));
  return { connection, sent, emitters, stopped, logger, settle, dispatcher };
}

describe('dispatcher', () => {
  it('answers a request with its id and the handler result', async () => {
    const { connection, sent, settle } = setup();
    connection.receive(JSON.stringify({ type: 'request', id: 'a1', method: 'hosts.list', params: {} }));
    await settle();
    expect(sent).toEqual([{ type: 'response', id: 'a1', ok: true, result: [summary] }]);
  });

  it('turns an ApiError into its body and any other error into INTERNAL without details', async () => {
    const { connection, sent, settle, logger } = setup();
    connection.receive(JSON.stringify({ type: 'request', id: 1, method: 'hosts.get', params: { hostId: 2 } }));
    connection.receive(JSON.stringify({ type: 'request', id: 2, method: 'hosts.probe', params: { hostId: 1 } }));
    await settle();
    expect(sent[0]).toEqual({
      type: 'response',
      id: 1,
      ok: false,
      error: { code: 'HOST_NOT_FOUND', message: 'no such host', remedy: 'list the hosts' },
    });
    expect(sent[1]).toMatchObject({ id: 2, ok: false, error: { code: 'INTERNAL' } });
    expect(JSON.stringify(sent[1])).not.toContain('disk on fire');
    expect(logger.error).toHaveBeenCalled();
  });

  it('lets only a pipe granted local files name a file on this machine; the call never reaches its handler', async () => {
    const read = vi.fn(() => ({ added: [], errors: [] }));
    const { connection, sent, settle, dispatcher, logger } = setup({ 'hosts.importFile': read } as never);
    const call = (id: number) => JSON.stringify({ type: 'request', id, method: 'hosts.importFile', params: { path: '/etc/shadow' } });
    connection.receive(call(1));
    await settle();
    expect(sent[0]).toMatchObject({ id: 1, ok: false, error: { code: 'METHOD_NOT_ON_THIS_PIPE' } });
    expect(read).not.toHaveBeenCalled();
    expect(logger.warn).toHaveBeenCalled();
    for (const method of ['installs.planFile', 'installs.applyFile', 'installs.rollbackFile', 'installs.uninstallFile']) {
      connection.receive(JSON.stringify({ type: 'request', id: method, method, params: { file: { path: '/etc/passwd' } } }));
    }
    await settle();
    expect(sent.slice(1).map((m) => m.error.code)).toEqual(Array(4).fill('METHOD_NOT_ON_THIS_PIPE'));

    const granted: unknown[] = [];
    const local = dispatcher.connect((text) => granted.push(JSON.parse(text)), 'cli', { localFiles: true });
    local.receive(call(2));
    await settle();
    expect(granted).toEqual([{ type: 'response', id: 2, ok: true, result: { added: [], errors: [] } }]);
    // The caller is the pipe's: its actor is the peer when the pipe names none; no operator has signed in on it.
    expect(read).toHaveBeenCalledWith(
      { path: '/etc/shadow' },
      // A pipe that may name files here says so to the handler (paths inside a text it parses: a host list's keyPath).
      { actor: 'cli', peer: 'cli', session: expect.objectContaining({ operatorId: undefined }), namesBackendFiles: true },
    );
  });

  it('hands each handler the actor of the pipe it was called on, for the record of who acted', async () => {
    const actors: string[] = [];
    const { dispatcher, settle } = setup({
      'hosts.get': (_params: unknown, caller: { actor: string }) => {
        actors.push(caller.actor);
        return { host: summary, facts: null };
      },
    } as never);
    const request = JSON.stringify({ type: 'request', id: 1, method: 'hosts.get', params: { hostId: 1 } });
    dispatcher.connect(() => {}, 'port:1', {}, 'desktop').receive(request);
    dispatcher.connect(() => {}, 'ws:5000', {}, 'web:0a1b2c3d').receive(request);
    dispatcher.connect(() => {}, 'cli', { localFiles: true }, 'cli:operator').receive(request);
    await settle();
    expect(actors).toEqual(['desktop', 'web:0a1b2c3d', 'cli:operator']);
  });

  it('refuses a result that breaks the contract instead of passing it on', async () => {
    const { connection, sent, settle } = setup({ 'hosts.list': () => [{ id: 'x' }] as never });
    connection.receive(JSON.stringify({ type: 'request', id: 1, method: 'hosts.list', params: {} }));
    await settle();
    expect(sent[0]).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  });

  it.each([
    ['not json', '{', 'BAD_JSON', null],
    ['a JSON array', '[1,2]', 'BAD_MESSAGE', null],
    ['an unknown type', '{"type":"call","id":7}', 'BAD_MESSAGE', 7],
    ['an unknown method', '{"type":"request","id":7,"method":"nope"}', 'UNKNOWN_METHOD', 7],
    ['extra params', '{"type":"request","id":7,"method":"hosts.list","params":{"x":1}}', 'BAD_PARAMS', 7],
    ['wrong param type', '{"type":"request","id":7,"method":"hosts.get","params":{"hostId":-1}}', 'BAD_PARAMS', 7],
    ['an unknown event', '{"type":"subscribe","id":7,"event":"nope"}', 'UNKNOWN_EVENT', 7],
    [
      'an oversized message',
      JSON.stringify({ type: 'request', id: 7, method: 'hosts.list', pad: 'x'.repeat(2000) }),
      'MESSAGE_TOO_LARGE',
      null,
    ],
  ])('answers %s with %s and stays open', async (_name, text, code, id) => {
    const { connection, sent, settle } = setup();
    connection.receive(text);
    connection.receive(JSON.stringify({ type: 'request', id: 'after', method: 'hosts.list', params: {} }));
    await settle();
    expect(sent[0]).toMatchObject({ type: 'response', id, ok: false, error: { code } });
    expect(sent[0].error.remedy.length).toBeGreaterThan(0);
    expect(sent[1]).toMatchObject({ id: 'after', ok: true });
  });

  it('answers a message that is not text with a structured error and stays open', async () => {
    const { connection, sent, settle } = setup();
    connection.receiveNonText('a binary frame');
    connection.receive(JSON.stringify({ type: 'request', id: 'after', method: 'hosts.list', params: {} }));
    await settle();
    expect(sent[0]).toMatchObject({ type: 'response', id: null, ok: false, error: { code: 'BAD_JSON' } });
    expect(sent[0].error.message).toContain('a binary frame');
    expect(sent[0].error.remedy.length).toBeGreaterThan(0);
    expect(sent[1]).toMatchObject({ id: 'after', ok: true });
  });

  it('delivers events to a subscription until it is unsubscribed', async () => {
    const { connection, sent, emitters, stopped, settle } = setup();
    connection.receive(JSON.stringify({ type: 'subscribe', id: 1, event: 'metrics.live', params: { hostId: 1 } }));
    await settle();
    const subscriptionId = sent[0].result.subscriptionId;
    expect(typeof subscriptionId).toBe('string');
    const sample = { hostId: 1, t: 5, values: { 'cpu.percent': 3 } };
    for (const emit of emitters) emit(sample);
    expect(sent[1]).toEqual({ type: 'event', subscriptionId, event: 'metrics.live', payload: sample });
    connection.receive(JSON.stringify({ type: 'unsubscribe', id: 2, subscriptionId }));
    await settle();
    expect(sent[2]).toMatchObject({ id: 2, ok: true });
    expect(stopped).toHaveBeenCalledTimes(1);
    expect(emitters.size).toBe(0);
  });

  it('stops every subscription when the connection closes and sends nothing after', async () => {
    const { connection, sent, emitters, stopped, settle } = setup();
    connection.receive(JSON.stringify({ type: 'subscribe', id: 1, event: 'metrics.live', params: { hostId: 1 } }));
    connection.receive(JSON.stringify({ type: 'subscribe', id: 2, event: 'metrics.live', params: { hostId: 1 } }));
    await settle();
    expect(connection.subscriptionCount).toBe(2);
    expect(emitters.size).toBe(2);
    connection.close();
    expect(stopped).toHaveBeenCalledTimes(2);
    expect(emitters.size).toBe(0);
    const before = sent.length;
    connection.receive(JSON.stringify({ type: 'request', id: 3, method: 'hosts.list', params: {} }));
    await settle();
    expect(sent.length).toBe(before);
  });

  it('ends a subscription its pipe may no longer receive when checked again, saying why; a check that breaks keeps it', async () => {
    let verdict: 'allow' | 'deny' | 'broken' = 'allow';
    const checked: string[] = [];
    const { connection, sent, emitters, stopped, settle, logger, dispatcher } = setup(
      {},
      {
        mayReceive: (event, caller) => {
          checked.push(`${event} for ${caller.actor}`);
          if (verdict === 'deny') throw new ApiError('ACCESS_DENIED', `no ${event} for you`, 'Ask an admin.');
          if (verdict === 'broken') throw new Error('store gone');
        },
      },
    );
    connection.receive(JSON.stringify({ type: 'subscribe', id: 1, event: 'metrics.live', params: { hostId: 1 } }));
    await settle();
    const subscriptionId = sent[0].result.subscriptionId;
    expect(dispatcher.recheckSubscriptions()).toBe(0);
    verdict = 'broken';
    expect(dispatcher.recheckSubscriptions()).toBe(0);
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(connection.subscriptionCount).toBe(1);

    verdict = 'deny';
    expect(dispatcher.recheckSubscriptions()).toBe(1);
    expect(sent[1]).toEqual({
      type: 'subscriptionEnded',
      subscriptionId,
      event: 'metrics.live',
      error: { code: 'ACCESS_DENIED', message: 'no metrics.live for you', remedy: 'Ask an admin.' },
    });
    expect(stopped).toHaveBeenCalledTimes(1);
    expect(emitters.size).toBe(0);
    expect(connection.subscriptionCount).toBe(0);
    expect(checked).toEqual(['metrics.live for test', 'metrics.live for test', 'metrics.live for test']);
    // Ended is gone: unsubscribing names an unknown subscription, and a closed pipe is checked no more.
    connection.receive(JSON.stringify({ type: 'unsubscribe', id: 2, subscriptionId }));
    await settle();
    expect(sent[2]).toMatchObject({ id: 2, ok: false, error: { code: 'UNKNOWN_SUBSCRIPTION' } });
    connection.receive(JSON.stringify({ type: 'subscribe', id: 3, event: 'metrics.live', params: { hostId: 1 } }));
    await settle();
    connection.close();
    expect(dispatcher.recheckSubscriptions()).toBe(0);
    expect(checked).toHaveLength(3);
  });

  it('answers with MESSAGE_TOO_LARGE instead of sending an answer over the limit, and keeps serving', async () => {
    const many = Array.from({ length: 20 }, (_, i) => ({ ...summary, id: i + 1, name: `host-${i}` }));
    const { connection, sent, settle, logger } = setup({ 'hosts.list': () => many });
    connection.receive(JSON.stringify({ type: 'request', id: 'big', method: 'hosts.list', params: {} }));
    await settle();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      type: 'response',
      id: 'big',
      ok: false,
      error: { code: 'MESSAGE_TOO_LARGE', remedy: expect.stringContaining('page through lists') },
    });
    expect(sent[0].error.message).toMatch(/^The answer would be \d+ bytes, over the limit of 1000 bytes; it was not sent\.$/);
    expect(logger.warn).toHaveBeenCalled();
    connection.receive(JSON.stringify({ type: 'request', id: 'small', method: 'app.info', params: {} }));
    await settle();
    expect(sent[1]).toMatchObject({ id: 'small', ok: true });
  });

  it('drops an event over the limit rather than send it', async () => {
    const { connection, sent, emitters, settle } = setup();
    connection.receive(JSON.stringify({ type: 'subscribe', id: 's', event: 'metrics.live', params: { hostId: 1 } }));
    await settle();
    expect(sent[0]).toMatchObject({ id: 's', ok: true });
    const values = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`series.${i}`, i]));
    for (const emit of emitters) emit({ hostId: 1, t: 5, values });
    for (const emit of emitters) emit({ hostId: 1, t: 6, values: { 'cpu.percent': 3 } });
    await settle();
    expect(sent.slice(1).map((m) => m.payload.t)).toEqual([6]);
  });
});
