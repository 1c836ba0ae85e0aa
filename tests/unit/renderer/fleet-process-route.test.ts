import { describe, expect, it } from 'vitest';
import { hrefFor, parseRoute } from '../../../renderer/src/router/route';

// The URL the Events page and the charts link to: #/fleet/hosts/<hostId>/processes/<name>?at=<ms>.
describe('the fleet process route', () => {
  it('reads the host, the process, the time and the instance', () => {
    expect(parseRoute('#/fleet/hosts/3/processes/agent')).toEqual({ name: 'fleet-process', hostId: 3, process: 'agent' });
    expect(parseRoute('#/fleet/hosts/3/processes/agent?at=1764950400123')).toEqual({
      name: 'fleet-process',
      hostId: 3,
      process: 'agent',
      atMs: 1764950400123,
    });
    expect(parseRoute('#/fleet/hosts/3/processes/agent?instance=agent-2&at=5')).toEqual({
      name: 'fleet-process',
      hostId: 3,
      process: 'agent',
      instance: 'agent-2',
      atMs: 5,
    });
  });

  it('ignores a time or an instance that is not one, and refuses names the contract refuses', () => {
    expect(parseRoute('#/fleet/hosts/3/processes/core?at=yesterday&instance=../x')).toEqual({
      name: 'fleet-process',
      hostId: 3,
      process: 'core',
    });
    expect(parseRoute('#/fleet/hosts/0/processes/core').name).toBe('not-found');
    expect(parseRoute('#/fleet/hosts/3/processes/%2e%2e').name).toBe('not-found');
    expect(parseRoute('#/fleet/hosts/3/processes').name).toBe('not-found');
  });

  it('writes what it reads', () => {
    for (const route of [
      { name: 'fleet-process', hostId: 9, process: 'core' },
      { name: 'fleet-process', hostId: 9, process: 'agent', atMs: 1764950400000 },
      { name: 'fleet-process', hostId: 9, process: 'agent', instance: 'agent-3', atMs: 0 },
    ] as const) {
      expect(parseRoute(hrefFor(route))).toEqual(route);
    }
    expect(hrefFor({ name: 'fleet-process', hostId: 9, process: 'agent', atMs: 12 })).toBe('#/fleet/hosts/9/processes/agent?at=12');
  });
});
