// YAML a client sends is parsed off the backend's event loop and within limits: a hostile
// text (an alias bomb, 20,000 keys, deep nesting) is refused with CONFIG_YAML_INVALID, and
// another client's call sent after it is answered before that refusal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, createApiClient, type ApiClient } from '../../../electron/contract';
import { startTestBackend, type RunningBackend } from '../../support/backend-harness';
import { aliasBomb, deepNesting, manyKeys } from '../../support/hostile-yaml';
import { openSocket, wsTransport } from '../../support/ws-peer';

let running: RunningBackend;
let attacker: ApiClient;
let neighbour: ApiClient;

beforeAll(async () => {
  running = await startTestBackend({ sampleLocalHost: false, probeAtStart: false });
  attacker = createApiClient(wsTransport(await openSocket(running.apiUrl, running.token)));
  neighbour = createApiClient(wsTransport(await openSocket(running.apiUrl, running.token)));
});

afterAll(async () => {
  attacker?.close();
  neighbour?.close();
  await running?.stop();
});

describe('YAML from clients', () => {
  it.each([
    ['an alias bomb', aliasBomb(), /aliases expand the text to more than 10000 keys and list items/],
    ['20,000 unknown keys', manyKeys(), /holds more than 10000 keys and list items/],
    ['lists nested 5,000 deep', deepNesting(), /nested more than 32 deep/],
  ])('config.check of %s is CONFIG_YAML_INVALID, and another client is answered first', async (_label, text, why) => {
    const order: string[] = [];
    const check = attacker.call('config.check', { install: [{ name: 'install.yaml', text }] }).finally(() => order.push('check'));
    const info = neighbour.call('app.info', {}).finally(() => order.push('neighbour'));
    const [result] = await Promise.all([check, info]);
    expect(order).toEqual(['neighbour', 'check']);
    expect(result.valid).toBe(false);
    if (result.valid) return;
    expect(result.problem.code).toBe('CONFIG_YAML_INVALID');
    expect(result.problem.message).toMatch(/^install\.yaml:\d+:\d+: /);
    expect(result.problem.message).toMatch(why);
    expect(result.problem.remedy).toContain('aliases expand to');
  });

  it('refuses an alias bomb in a host list with CONFIG_YAML_INVALID and imports nothing', async () => {
    const before = await attacker.call('hosts.list', {});
    const error = await attacker.call('hosts.import', { text: aliasBomb('hosts'), fileName: 'hosts.yaml' }).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('CONFIG_YAML_INVALID');
    expect((error as ApiError).message).toMatch(/^hosts\.yaml:\d+:\d+: aliases expand/);
    expect(await attacker.call('hosts.list', {})).toEqual(before);
  });

  it('reads aliases in a host list as YAML says: the labels a row names by alias are the anchor’s', async () => {
    const text = [
      'common: &common [rack-1, gpu]',
      'hosts:',
      '  - address: 10.9.0.1',
      '    name: aliased-1',
      '    labels: *common',
      '',
    ].join('\n');
    const result = await attacker.call('hosts.import', { text, fileName: 'hosts.yaml' });
    expect(result.errors).toEqual([]);
    expect(result.added.map((host) => [host.name, host.labels])).toEqual([['aliased-1', ['rack-1', 'gpu']]]);
  });
});
