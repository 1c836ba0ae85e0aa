import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../../electron/contract';
import { loadInstallConfig } from '../../../electron/backend/config/load-install-config';
import { prometheusTargetsOf } from '../../../electron/backend/fleet/prometheus-targets';
import { createHostsRepo } from '../../../electron/backend/store/hosts-repo';
import { createInstallsRepo } from '../../../electron/backend/store/installs-repo';
import { openMemoryStore } from '../../support/memory-store';
import { recordInstall } from '../../support/recorded-installs';
import { addStandInHost, seedStandInBundle } from '../../support/stand-in-rows';

// Each host's configuration is merged from the shipped defaults and the layers given, as an apply stores it.
let db: Database.Database;
let bundleId: number;
beforeEach(() => {
  db = openMemoryStore();
  bundleId = seedStandInBundle(db);
});
afterEach(() => db.close());

const host = (name: string, address: string): number => addStandInHost(db, name, address).id;

/** An install whose hosts have the defaults merged with `installLayer` and each host's own layer. */
function install(name: string, installLayer: string, hosts: Array<{ id: number; role: 'core' | 'agent' | 'both'; layer?: string }>): void {
  recordInstall(db, bundleId, { name, config: installLayer, hosts: hosts.map(({ id, ...h }) => ({ hostId: id, ...h })) });
}

const deps = () => ({ installs: createInstallsRepo(db), hosts: createHostsRepo(db) });

function refusal(name: string): ApiError {
  try {
    prometheusTargetsOf(deps(), name);
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('Prometheus file_sd targets of an install', () => {
  it('points at the inventory address for a wildcard listen, at the address itself otherwise; a host with metrics off is listed as skipped', () => {
    const core = host('core-1', '10.0.0.5');
    const gpu = host('gpu-1', '10.0.0.6');
    const quiet = host('quiet-1', '10.0.0.7');
    const v6 = host('v6-1', 'fd00::9');
    install('site', 'runtime: { metrics_listen_address: 0.0.0.0 }\n', [
      { id: gpu, role: 'agent', layer: 'runtime: { metrics_listen_address: 10.9.9.9, metrics_port: 9500 }\n' },
      { id: core, role: 'core' },
      { id: quiet, role: 'agent', layer: 'system_integration: { monitoring: { metrics_collection: none } }\n' },
      { id: v6, role: 'agent', layer: 'runtime: { metrics_listen_address: "::" }\n' },
    ]);
    expect(prometheusTargetsOf(deps(), 'site')).toEqual({
      install: 'site',
      groups: [
        { targets: ['10.0.0.5:9464'], labels: { install: 'site', host: 'core-1', role: 'core' } },
        { targets: ['10.9.9.9:9500'], labels: { install: 'site', host: 'gpu-1', role: 'agent' } },
        { targets: ['[fd00::9]:9464'], labels: { install: 'site', host: 'v6-1', role: 'agent' } },
      ],
      skipped: [{ host: 'quiet-1', reason: 'metrics-off', listen: null }],
    });
  });

  it('refuses an install whose runtimes serve /metrics on loopback only (the default), saying which key opens it', () => {
    install('lab', '', [{ id: host('lab-1', '10.0.0.5'), role: 'both' }]);
    const error = refusal('lab');
    expect(error.code).toBe('PROMETHEUS_TARGETS_NONE');
    expect(error.message).toBe(
      'Install lab has nothing a Prometheus elsewhere can scrape: its runtimes serve /metrics on loopback only (127.0.0.1:9464).',
    );
    expect(error.remedy).toContain('runtime.metrics_listen_address');
    expect(error.remedy).toContain('apply the install again');
  });

  it('refuses an install without metrics, and names an install that is not recorded', () => {
    install('quiet', 'system_integration: { monitoring: { metrics_collection: none } }\n', [{ id: host('q-1', '10.0.0.5'), role: 'both' }]);
    expect(refusal('quiet').message).toContain('metrics_collection is none');
    expect(refusal('nope').code).toBe('NOT_FOUND');
  });

  it('reads a host applied before metrics_listen_address existed: /metrics then followed the gRPC listen address', () => {
    const createInstalls = createInstallsRepo(db);
    const id = createInstalls.insert(
      { name: 'old', bundleId, installFile: '/i.yaml', configSnapshot: '{}', caCert: 'PEM', caKeySecretId: null },
      5,
    );
    const { config } = loadInstallConfig({ install: [{ name: 'install.yaml', text: 'runtime: { listen_address: 0.0.0.0 }\n' }] });
    const { metrics_listen_address: _dropped, ...runtime } = config.runtime;
    createInstalls.upsertHost(
      { installId: id, hostId: host('old-1', '10.0.0.8'), role: 'both', gpu: false, config: JSON.stringify({ ...config, runtime }) },
      6,
    );
    expect(prometheusTargetsOf(deps(), 'old').groups).toEqual([
      { targets: ['10.0.0.8:9464'], labels: { install: 'old', host: 'old-1', role: 'both' } },
    ]);
  });
});
