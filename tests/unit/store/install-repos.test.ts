import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHostReleasesRepo } from '../../../electron/backend/store/host-releases-repo';
import { createInstallStepsRepo, STEP_OUTPUT_LIMIT } from '../../../electron/backend/store/install-steps-repo';
import { createInstallsRepo } from '../../../electron/backend/store/installs-repo';
import { openMemoryStore } from '../../support/memory-store';
import { addStandInHost, seedStandInBundle } from '../../support/stand-in-rows';

let db: Database.Database;
let hostA: number;
let hostB: number;
let bundleId: number;

beforeEach(() => {
  db = openMemoryStore();
  const ssh = (name: string) => addStandInHost(db, name, `10.0.0.${name.length}`).id;
  hostA = ssh('a');
  hostB = ssh('bb');
  bundleId = seedStandInBundle(db);
});
afterEach(() => db.close());

function newInstall(name = 'lab'): number {
  return createInstallsRepo(db).insert(
    { name, bundleId, installFile: '/i.yaml', configSnapshot: '{}', caCert: 'PEM', caKeySecretId: null },
    5,
  );
}

describe('install tables (migration 5)', () => {
  it('keeps a host in one install at a time, and what the first apply decided about it', () => {
    const installs = createInstallsRepo(db);
    const lab = newInstall('lab');
    const other = newInstall('other');
    installs.upsertHost({ installId: lab, hostId: hostA, role: 'both', gpu: false, config: '{}' }, 6);
    expect(() => installs.upsertHost({ installId: other, hostId: hostA, role: 'agent', gpu: false, config: '{}' }, 7)).toThrow(/UNIQUE/);
    expect(installs.installOfHost(hostA)).toEqual({ installId: lab, name: 'lab' });
    expect(installs.installOfHost(hostB)).toBeNull();

    installs.setPlacement(lab, hostA, { mode: 'user', rootDir: '/home/ops/.local/share/sutazai', service: 'detached' }, 8);
    installs.upsertHost({ installId: lab, hostId: hostA, role: 'agent', gpu: true, config: '{"a":1}' }, 9);
    expect(installs.host(lab, hostA)).toMatchObject({
      role: 'agent',
      gpu: true,
      mode: 'user',
      service: 'detached',
      state: 'planned',
      config: '{"a":1}',
    });
    expect(() => installs.setHostState(lab, hostA, 'weird' as never, 10)).toThrow(/CHECK/);
  });

  it('records each path the install made once, for uninstall', () => {
    const installs = createInstallsRepo(db);
    const lab = newInstall();
    installs.upsertHost({ installId: lab, hostId: hostA, role: 'both', gpu: false, config: '{}' }, 6);
    installs.addCreatedPaths(lab, hostA, ['/opt/sutazai', '/etc/sutazai'], 7);
    installs.addCreatedPaths(lab, hostA, ['/opt/sutazai', '/var/log/sutazai'], 8);
    expect(installs.host(lab, hostA)!.createdPaths).toEqual(['/opt/sutazai', '/etc/sutazai', '/var/log/sutazai']);
  });

  it('keeps one row per step and release, updated by each run, with the output cut to its end', () => {
    const steps = createInstallStepsRepo(db);
    const lab = newInstall();
    const key = { installId: lab, hostId: hostA, releaseVersion: '0.1.0', step: 'upload' };
    steps.start(key, 10);
    steps.finish(
      key,
      { status: 'failed', changed: false, output: 'x'.repeat(STEP_OUTPUT_LIMIT * 2) + 'the end', errorCode: 'INSTALL_UPLOAD_FAILED' },
      11,
    );
    steps.start(key, 12);
    expect(steps.forHost(lab, hostA, '0.1.0')).toEqual([
      expect.objectContaining({ status: 'running', errorCode: null, startedAt: 12, finishedAt: null }),
    ]);
    steps.finish(key, { status: 'done', changed: true, output: 'sent 10 bytes' }, 13);
    const [row] = steps.forHost(lab, hostA, '0.1.0');
    expect(row).toMatchObject({ status: 'done', changed: true, output: 'sent 10 bytes', finishedAt: 13 });
    steps.finish(key, { status: 'failed', changed: false, output: 'y'.repeat(STEP_OUTPUT_LIMIT * 2) + 'the end' }, 14);
    const cut = steps.forHost(lab, hostA, '0.1.0')[0]!.output;
    expect(cut.length).toBe(STEP_OUTPUT_LIMIT);
    expect(cut.endsWith('the end')).toBe(true);
  });

  it('has at most one current release per host: a new one makes the old one previous', () => {
    const releases = createHostReleasesRepo(db);
    const lab = newInstall();
    releases.markCurrent({
      hostId: hostA,
      installId: lab,
      version: '0.1.0',
      bundleSha256: 'a'.repeat(64),
      path: '/opt/sutazai/releases/0.1.0',
      installedAt: 1,
    });
    releases.markCurrent({
      hostId: hostA,
      installId: lab,
      version: '0.2.0',
      bundleSha256: 'b'.repeat(64),
      path: '/opt/sutazai/releases/0.2.0',
      installedAt: 2,
    });
    releases.markCurrent({
      hostId: hostB,
      installId: lab,
      version: '0.1.0',
      bundleSha256: 'a'.repeat(64),
      path: '/opt/sutazai/releases/0.1.0',
      installedAt: 3,
    });
    expect(releases.ofHost(hostA).map((r) => [r.version, r.state])).toEqual([
      ['0.2.0', 'current'],
      ['0.1.0', 'previous'],
    ]);
    expect(releases.current(hostA)?.version).toBe('0.2.0');
    // Back to 0.1.0 (a rollback): the same rows, states swapped.
    releases.markCurrent({
      hostId: hostA,
      installId: lab,
      version: '0.1.0',
      bundleSha256: 'a'.repeat(64),
      path: '/opt/sutazai/releases/0.1.0',
      installedAt: 4,
    });
    expect(releases.ofHost(hostA).map((r) => [r.version, r.state])).toEqual([
      ['0.1.0', 'current'],
      ['0.2.0', 'previous'],
    ]);
    expect(() => db.prepare("UPDATE host_releases SET state = 'current' WHERE host_id = ? AND version = '0.2.0'").run(hostA)).toThrow(
      /UNIQUE/,
    );
    expect(releases.current(hostB)?.version).toBe('0.1.0');
  });

  it('keeps the bundle an install uses', () => {
    newInstall();
    expect(() => db.prepare('DELETE FROM bundles').run()).toThrow(/FOREIGN KEY/);
  });
});
