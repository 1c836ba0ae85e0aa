import { describe, expect, it } from 'vitest';
import { ClientMessageSchema, events, HostFactsSchema, methods, MetricsQueryParamsSchema } from '../../../electron/contract';

describe('contract schemas', () => {
  it('accepts the three client message shapes and nothing else', () => {
    expect(ClientMessageSchema.safeParse({ type: 'request', id: 1, method: 'hosts.list' }).success).toBe(true);
    expect(ClientMessageSchema.safeParse({ type: 'subscribe', id: 'x', event: 'metrics.live', params: {} }).success).toBe(true);
    expect(ClientMessageSchema.safeParse({ type: 'unsubscribe', id: 2, subscriptionId: 's' }).success).toBe(true);
    expect(ClientMessageSchema.safeParse({ type: 'request', id: -1, method: 'a' }).success).toBe(false);
    expect(ClientMessageSchema.safeParse({ type: 'request', id: 'x'.repeat(65), method: 'a' }).success).toBe(false);
    expect(ClientMessageSchema.safeParse({ type: 'request', id: 1 }).success).toBe(false);
    expect(ClientMessageSchema.safeParse({ type: 'event', id: 1 }).success).toBe(false);
  });

  it('has params and result schemas for every method and event', () => {
    for (const spec of Object.values(methods)) {
      expect(spec.params).toBeDefined();
      expect(spec.result).toBeDefined();
    }
    for (const spec of Object.values(events)) expect(spec.payload).toBeDefined();
  });

  it('bounds metric queries: ordered range, at most 1,500 points, known metrics', () => {
    const base = { hostId: 1, metrics: ['cpu.percent'], fromMs: 0, toMs: 10 };
    expect(MetricsQueryParamsSchema.parse(base).maxPoints).toBe(1500);
    expect(MetricsQueryParamsSchema.safeParse({ ...base, maxPoints: 1501 }).success).toBe(false);
    expect(MetricsQueryParamsSchema.safeParse({ ...base, fromMs: 11 }).success).toBe(false);
    expect(MetricsQueryParamsSchema.safeParse({ ...base, metrics: ['gpu.fire'] }).success).toBe(false);
    expect(MetricsQueryParamsSchema.safeParse({ ...base, metrics: [] }).success).toBe(false);
  });

  it('rejects facts missing a required section', () => {
    const facts = {
      probedAt: 1,
      source: 'local',
      os: { platform: 'linux', family: 'debian', distro: 'Debian', release: '12', codename: '', kernel: '6', arch: 'x64', hostname: 'h' },
      cpu: null,
      memory: null,
      disks: null,
      filesystems: null,
      gpus: null,
      network: null,
      unknown: [],
    };
    expect(HostFactsSchema.safeParse(facts).success).toBe(true);
    const { os: _os, ...withoutOs } = facts;
    expect(HostFactsSchema.safeParse(withoutOs).success).toBe(false);
  });
});
