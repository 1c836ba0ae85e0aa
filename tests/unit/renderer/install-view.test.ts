import { describe, expect, it } from 'vitest';
import type { HostRelease, InstallRecord } from '../../../electron/contract';
import {
  canRollBack,
  currentRelease,
  laterJobOf,
  rollbackChoices,
  runningText,
  stepsDoneText,
} from '../../../renderer/src/installs/install-view';

type Host = InstallRecord['hosts'][number];

const release = (version: string, state: HostRelease['state'], installedAt: number): HostRelease => ({
  version,
  state,
  path: `/opt/sutazai/releases/${version}`,
  bundleSha256: 'a'.repeat(64),
  installedAt,
});

const host = (hostName: string, releases: HostRelease[]): Host => ({
  hostId: hostName.length,
  hostName,
  role: 'both',
  gpu: false,
  state: 'installed',
  mode: 'system',
  rootDir: '/opt/sutazai',
  service: 'systemd',
  releases,
});

const install = (bundleVersion: string, hosts: Host[]): InstallRecord => ({
  id: 1,
  name: 'lab',
  bundle: { id: 1, name: 'sutazai', version: bundleVersion },
  createdAt: 1,
  updatedAt: 2,
  hosts,
});

describe('what an install runs', () => {
  it('is named by its hosts’ current releases, not the bundle last applied: after a rollback, the older one', () => {
    const rolledBack = install('1.1.0', [host('a', [release('1.0.0', 'current', 3), release('1.1.0', 'previous', 2)])]);
    expect(currentRelease(rolledBack.hosts[0]!)).toBe('1.0.0');
    expect(runningText(rolledBack)).toBe('runs sutazai 1.0.0');
  });

  it('names each host’s release where they differ, and says when none runs yet', () => {
    const mixed = install('1.1.0', [
      host('a', [release('1.1.0', 'current', 3), release('1.0.0', 'previous', 2)]),
      host('b', [release('1.0.0', 'current', 2)]),
    ]);
    expect(runningText(mixed)).toBe('runs sutazai 1.1.0 on a, 1.0.0 on b');
    expect(runningText(install('1.0.0', [host('a', [])]))).toBe('no release running yet');
    expect(runningText({ bundle: null, hosts: [host('a', [release('1.0.0', 'current', 1)])] })).toBe('runs 1.0.0');
  });
});

describe('what a rollback can go to', () => {
  it('is nothing on a host with one release, so Roll back is not offered', () => {
    const fresh = install('1.0.0', [host('a', [release('1.0.0', 'current', 1)])]);
    expect(rollbackChoices(fresh)).toEqual({ previous: false, versions: [] });
    expect(canRollBack(rollbackChoices(fresh))).toBe(false);
    expect(canRollBack(rollbackChoices(fresh, 'a'))).toBe(false);
    expect(canRollBack(rollbackChoices(fresh, 'not-a-host'))).toBe(false);
  });

  it('is each host’s previous release, or a release every chosen host keeps that is not current on all of them', () => {
    const upgraded = install('1.1.0', [
      host('a', [release('1.1.0', 'current', 3), release('1.0.0', 'previous', 2)]),
      host('b', [release('1.1.0', 'current', 3)]),
    ]);
    expect(rollbackChoices(upgraded, 'a')).toEqual({ previous: true, versions: ['1.0.0'] });
    // b has nothing before 1.1.0: the whole install cannot go to each host's previous, nor to 1.0.0.
    expect(rollbackChoices(upgraded)).toEqual({ previous: false, versions: [] });
    expect(canRollBack(rollbackChoices(upgraded))).toBe(false);
    expect(canRollBack(rollbackChoices(upgraded, 'a'))).toBe(true);
    // A failed release is kept and can be named, though it is nobody's previous one.
    const failed = install('1.2.0', [host('a', [release('1.1.0', 'current', 3), release('1.2.0', 'failed', 4)])]);
    expect(rollbackChoices(failed)).toEqual({ previous: false, versions: ['1.2.0'] });
    expect(canRollBack(rollbackChoices(failed))).toBe(true);
  });
});

describe('steps done', () => {
  it('counts what is done and says where a host stopped', () => {
    expect(stepsDoneText(10, 10, null)).toBe('10 of 10 steps done');
    expect(stepsDoneText(2, 10, 'upload')).toBe('2 of 10 steps done, stopped at upload');
  });
});

describe('the install the wizard shows', () => {
  it('is a later run of the same install when there is one, else the one its draft names', () => {
    const cancelled = { jobId: 'j1', startedAt: 100 };
    expect(laterJobOf(cancelled, undefined)).toBeNull();
    expect(laterJobOf(cancelled, cancelled)).toBeNull();
    expect(laterJobOf(cancelled, { jobId: 'j2', startedAt: 200 })).toBe('j2');
    // A list read before this run started still names an older one: that is not later.
    expect(laterJobOf({ jobId: 'j3', startedAt: 300 }, { jobId: 'j2', startedAt: 200 })).toBeNull();
  });
});
