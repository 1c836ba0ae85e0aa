import { describe, expect, it } from 'vitest';
import { hrefFor, parseRoute } from '../../../renderer/src/router/route';

describe('parseRoute', () => {
  it('takes an empty hash to the hosts list', () => {
    expect(parseRoute('')).toEqual({ name: 'hosts' });
    expect(parseRoute('#')).toEqual({ name: 'hosts' });
    expect(parseRoute('#/')).toEqual({ name: 'hosts' });
  });

  it('reads the hosts list and one host', () => {
    expect(parseRoute('#/hosts')).toEqual({ name: 'hosts' });
    expect(parseRoute('#/hosts/')).toEqual({ name: 'hosts' });
    expect(parseRoute('#/hosts/12')).toEqual({ name: 'host', hostId: 12 });
    expect(parseRoute('#/hosts/12/')).toEqual({ name: 'host', hostId: 12 });
    expect(parseRoute('#/hosts/3?tab=facts')).toEqual({ name: 'host', hostId: 3 });
  });

  it('reads a host at a moment (an event’s second), and ignores a moment that is no time', () => {
    expect(parseRoute('#/hosts/3?at=1764950400123')).toEqual({ name: 'host', hostId: 3, atMs: 1764950400123 });
    expect(parseRoute('#/hosts/3?tab=facts&at=5')).toEqual({ name: 'host', hostId: 3, atMs: 5 });
    expect(parseRoute('#/hosts/3?at=yesterday')).toEqual({ name: 'host', hostId: 3 });
    expect(parseRoute('#/hosts/3?at=-5')).toEqual({ name: 'host', hostId: 3 });
    expect(parseRoute('#/hosts/3?at=1234567890123456')).toEqual({ name: 'host', hostId: 3 });
  });

  it('refuses ids the contract would refuse', () => {
    expect(parseRoute('#/hosts/0')).toEqual({ name: 'not-found', path: '/hosts/0' });
    expect(parseRoute('#/hosts/-1')).toEqual({ name: 'not-found', path: '/hosts/-1' });
    expect(parseRoute('#/hosts/1.5')).toEqual({ name: 'not-found', path: '/hosts/1.5' });
    expect(parseRoute('#/hosts/abc')).toEqual({ name: 'not-found', path: '/hosts/abc' });
    expect(parseRoute('#/hosts/99999999999999999')).toEqual({ name: 'not-found', path: '/hosts/99999999999999999' });
  });

  it('reads a bulk probe by its job id', () => {
    expect(parseRoute('#/probes/5b0c6f1e-8f7e-4a43-9b51-0d2f3c1a9e77')).toEqual({
      name: 'probe-job',
      jobId: '5b0c6f1e-8f7e-4a43-9b51-0d2f3c1a9e77',
    });
    expect(parseRoute('#/probes')).toEqual({ name: 'not-found', path: '/probes' });
    expect(parseRoute('#/probes/a%20b')).toEqual({ name: 'not-found', path: '/probes/a%20b' });
    expect(parseRoute(`#/probes/${'x'.repeat(65)}`).name).toBe('not-found');
  });

  it('reads the bundles and configuration pages', () => {
    expect(parseRoute('#/bundles')).toEqual({ name: 'bundles' });
    expect(parseRoute('#/bundles/')).toEqual({ name: 'bundles' });
    expect(parseRoute('#/configuration')).toEqual({ name: 'configuration' });
    expect(parseRoute('#/bundles/3')).toEqual({ name: 'not-found', path: '/bundles/3' });
    expect(parseRoute('#/configuration/x')).toEqual({ name: 'not-found', path: '/configuration/x' });
  });

  it('reads the install wizard', () => {
    expect(parseRoute('#/install')).toEqual({ name: 'install' });
    expect(parseRoute('#/install/')).toEqual({ name: 'install' });
    expect(parseRoute('#/install/x')).toEqual({ name: 'not-found', path: '/install/x' });
  });

  it('reads the installs list, one install, and its upgrade to a version', () => {
    expect(parseRoute('#/installs')).toEqual({ name: 'installs' });
    expect(parseRoute('#/installs/lab-1')).toEqual({ name: 'installed', installName: 'lab-1' });
    expect(parseRoute('#/installs/lab/upgrade/0.2.0')).toEqual({ name: 'installed', installName: 'lab', upgradeTo: '0.2.0' });
    expect(parseRoute('#/installs/lab/upgrade/latest')).toEqual({ name: 'not-found', path: '/installs/lab/upgrade/latest' });
    expect(parseRoute('#/installs/-lab')).toEqual({ name: 'not-found', path: '/installs/-lab' });
    expect(parseRoute('#/installs/%E0%A4%A')).toEqual({ name: 'not-found', path: '/installs/%E0%A4%A' });
  });

  it('reads the fleet overview', () => {
    expect(parseRoute('#/fleet')).toEqual({ name: 'fleet' });
    expect(parseRoute('#/fleet/')).toEqual({ name: 'fleet' });
    expect(parseRoute('#/fleet/x')).toEqual({ name: 'not-found', path: '/fleet/x' });
  });

  it('reads the events timeline and the alerts list', () => {
    expect(parseRoute('#/events')).toEqual({ name: 'events' });
    expect(parseRoute('#/events/')).toEqual({ name: 'events' });
    expect(parseRoute('#/alerts')).toEqual({ name: 'alerts' });
    expect(parseRoute('#/events/7')).toEqual({ name: 'not-found', path: '/events/7' });
    expect(parseRoute('#/alerts/x')).toEqual({ name: 'not-found', path: '/alerts/x' });
  });

  it('reads the audit log', () => {
    expect(parseRoute('#/audit')).toEqual({ name: 'audit' });
    expect(parseRoute('#/audit/')).toEqual({ name: 'audit' });
    expect(parseRoute('#/audit/3')).toEqual({ name: 'not-found', path: '/audit/3' });
  });

  it('names unknown paths as not found', () => {
    expect(parseRoute('#/hosts/1/logs')).toEqual({ name: 'not-found', path: '/hosts/1/logs' });
  });
});

describe('hrefFor', () => {
  it('is the inverse of parseRoute', () => {
    for (const route of [
      { name: 'hosts' },
      { name: 'host', hostId: 7 },
      { name: 'host', hostId: 7, atMs: 1764950400123 },
      { name: 'probe-job', jobId: 'job-1' },
      { name: 'bundles' },
      { name: 'configuration' },
      { name: 'install' },
      { name: 'installs' },
      { name: 'installed', installName: 'lab' },
      { name: 'installed', installName: 'lab', upgradeTo: '0.2.0' },
      { name: 'fleet' },
      { name: 'events' },
      { name: 'alerts' },
      { name: 'audit' },
    ] as const) {
      expect(parseRoute(hrefFor(route))).toEqual(route);
    }
  });
});
