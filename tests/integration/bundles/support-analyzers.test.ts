// The offline analyzers on a real bundle (issue 15, item 4): a real backend over a real store
// collects a host's support bundle and saves it, and `sutazai support analyze` (another
// process, no backend) reads it. What the store holds was planted as the fleet would have
// recorded it: the host's memory readings over 90 % (the metric store), its runtime's
// certificate recorded as presented, ending in 10 days, and its link going down four times,
// the last time still down when the bundle is collected (fleet events).
// support-link-history makes link outages for real (a test host's interface taken down).
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../../electron/backend/app/backend';
import { createFleetEventsRepo } from '../../../electron/backend/fleet/events/fleet-events-repo';
import { createMetricStore } from '../../../electron/backend/metrics/metric-store';
import { createInstallsRepo } from '../../../electron/backend/store/installs-repo';
import { openStore } from '../../../electron/backend/store/open-store';
import type { ApiClient, SupportAnalysis } from '../../../electron/contract';
import { startQuietBackend } from '../../support/backend-harness';
import { runSutazaiAsync } from '../../support/run-sutazai';
import { addStandInHost, seedStandInBundle } from '../../support/stand-in-rows';
import { setUpSuite } from '../../support/suite-set-up';
import { makeTempDir } from '../../support/temp-dir';

const HOST = 'pressed-host';
const MIN = 60_000;
const DAY = 24 * 60 * MIN;
let dataDir = '';
let bundle = '';
let hostId = 0;
let backend: Backend;
let api: ApiClient;
const start = Date.now();

setUpSuite(
  async (defer) => {
    const tmp = makeTempDir('sutazai-support-analyzers-');
    defer(tmp.remove);
    dataDir = path.join(tmp.path, 'data');
    bundle = path.join(tmp.path, 'pressed.tar');
    const store = openStore({ dataDir });
    try {
      hostId = addStandInHost(store.db, HOST, '198.18.251.4').id;
      const installs = createInstallsRepo(store.db);
      const installId = installs.insert(
        {
          name: 'lab',
          bundleId: seedStandInBundle(store.db),
          installFile: '/i.yaml',
          configSnapshot: '{}',
          caCert: 'PEM',
          caKeySecretId: null,
        },
        1,
      );
      installs.upsertHost({ installId, hostId, role: 'core', gpu: false, config: '{}' }, 2);
      // As the host's link records the certificate its runtime presents.
      store.db
        .prepare('INSERT INTO runtime_certificates (host_id, not_after, fingerprint, seen_at) VALUES (?, ?, ?, ?)')
        .run(hostId, start + 10.5 * DAY, 'ab'.repeat(32), start - MIN);
      // Memory: 60 % an hour ago, then over 90 % for the last 20 minutes.
      const metrics = createMetricStore(store.db, { enforceRetention: false });
      for (let t = start - 60 * MIN; t <= start - MIN; t += 10_000)
        metrics.record(hostId, t, { 'memory.used_percent': t >= start - 20 * MIN ? 96 : 60 });
      metrics.flush();
      metrics.close();
      // The link: down and up three times (2 min each), then down 15 minutes ago and not up since.
      const events = createFleetEventsRepo(store.db);
      const link = (atMs: number, kind: 'link.down' | 'link.up', message: string) =>
        events.insert(
          {
            atMs,
            kind,
            origin: 'link',
            installName: 'lab',
            hostId,
            hostName: HOST,
            process: null,
            instance: null,
            state: null,
            message,
            error: null,
            lastLines: [],
            actor: null,
            dedupKey: null,
          },
          atMs,
        );
      for (const at of [start - 50 * MIN, start - 40 * MIN, start - 30 * MIN]) {
        link(at, 'link.down', 'the runtime stopped answering (keepalive timeout)');
        link(at + 2 * MIN, 'link.up', 'linked again');
      }
      link(start - 15 * MIN, 'link.down', 'connection refused by 198.18.251.4:7700');
    } finally {
      store.close();
    }
    backend = await startQuietBackend(dataDir);
    defer(() => backend.close());
    api = backend.openClient('support-analyzers-test');
    defer(() => api.close());
  },
  { setUpMs: 120_000, undoMs: 60_000 },
);

describe('the analyzers on a bundle the backend collected and saved', () => {
  let analysis: SupportAnalysis;

  it('collects the memory readings, the certificates and the events into the bundle, and audits the collection with its host', async () => {
    const preview = await api.call('support.collect', { target: { hostId } });
    const paths = preview.files.map((f) => f.path);
    expect(paths).toContain(`hosts/${HOST}/memory.json`);
    expect(paths).toContain(`hosts/${HOST}/certificates.json`);
    await api.call('support.save', { previewId: preview.previewId, redaction: {}, path: bundle });
    const db = new Database(path.join(dataDir, 'sutazai.db'), { readonly: true });
    try {
      const rows = db
        .prepare<[], { method: string; target: string | null }>(
          "SELECT method, target FROM audit_log WHERE method IN ('support.collect', 'support.save') ORDER BY rowid",
        )
        .all();
      expect(rows).toEqual([
        { method: 'support.collect', target: `host ${HOST}` },
        { method: 'support.save', target: `collection ${preview.previewId}, file ${bundle}` },
      ]);
    } finally {
      db.close();
    }
  }, 120_000);

  it('`sutazai support analyze` finds memory pressure, the certificate ending within 30 days and the link down often and long, each with a remedy', async () => {
    const run = await runSutazaiAsync(['support', 'analyze', bundle, '--json'], path.join(dataDir, '..', 'no-data-dir'));
    expect(run.code, run.stderr).toBe(0);
    analysis = JSON.parse(run.stdout) as SupportAnalysis;
    const by = (name: string) => analysis.findings.filter((f) => f.analyzer === name);

    const memory = by('memory-pressure');
    expect(memory).toHaveLength(1);
    expect(memory[0]!.severity).toBe('critical');
    expect(memory[0]!.summary).toMatch(
      new RegExp(`^${HOST}'s memory was over 90% used in \\d+ of \\d+ readings \\(peak 96%, 96% at the last`),
    );
    expect(memory[0]!.remedy).toMatch(/OOM killer/);

    const certificate = by('certificate-expiry');
    expect(certificate).toHaveLength(1);
    expect(certificate[0]).toMatchObject({
      severity: 'warning',
      summary: expect.stringMatching(new RegExp(`^${HOST}'s runtime certificate expires in 10 days`)),
    });
    expect(certificate[0]!.remedy).toMatch(/Apply the install/);

    const link = by('link-history');
    expect(link).toHaveLength(1);
    expect(link[0]).toMatchObject({ severity: 'critical', details: ['last said: connection refused by 198.18.251.4:7700'] });
    // The last outage lasts until the collection (15 minutes and the time the set-up took): the three before add 6 minutes.
    const said = new RegExp(
      `^${HOST}'s link went down 4 times, down (\\d+) min in all, the longest (\\d+) min; it was still down when the bundle was collected$`,
    ).exec(link[0]!.summary);
    expect(said, link[0]!.summary).not.toBeNull();
    expect(Number(said![2])).toBeGreaterThanOrEqual(15);
    expect(Number(said![1]) - Number(said![2])).toBeGreaterThanOrEqual(5);
    expect(Number(said![1]) - Number(said![2])).toBeLessThanOrEqual(7);
    expect(link[0]!.remedy).toMatch(/network path/);
  }, 120_000);
});
