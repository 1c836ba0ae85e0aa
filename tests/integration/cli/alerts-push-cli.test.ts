// An alert acknowledged from the command line reaches the open windows: a serving backend
// (web mode, behind the real web server) with a client on its WebSocket subscribed to
// alerts.changed, and `sutazai alerts --ack` run as the operator runs it, in its own process
// with its own connection to the same store. The window hears of the acknowledgement, with the
// command's actor (cli:<user>); an acknowledgement from the window itself is recorded with the
// web session's actor (web:<hash of its token>). Alerts fired by another process's evaluator
// arrive the same way. Order of the events is asserted, never time windows.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, EventPayload } from '../../../electron/contract';
import { fireMemoryAlerts } from '../../support/alerts-on-store';
import { startTestBackendWithClient } from '../../support/backend-harness';
import { runSutazaiAsync } from '../../support/run-sutazai';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const waitFor = makeWaitFor({ timeoutMs: 60_000, pollMs: 50 });
let serving: Awaited<ReturnType<typeof startTestBackendWithClient>>;
const heard: Array<EventPayload<'alerts.changed'>> = [];

beforeAll(async () => {
  // Builds the command once (on a directory of its own) before the case runs it beside the serving backend.
  const scratch = makeTempDir('sutazai-alerts-push-build-');
  try {
    const first = await runSutazaiAsync(['alerts', '--json'], scratch.path);
    expect(first.stderr).toBe('');
    expect(JSON.parse(first.stdout)).toEqual({ alerts: [] });
  } finally {
    scratch.remove();
  }
  serving = await startTestBackendWithClient({
    mode: 'web',
    sampleLocalHost: false,
    probeAtStart: false,
    fleetLinks: false,
    evaluateAlerts: true,
  });
  await serving.client.subscribe('alerts.changed', {}, (payload) => heard.push(payload));
}, 120_000);

afterAll(async () => {
  const rulesDir = serving && `${serving.running.dataDir}-rules`;
  await serving?.stop();
  if (rulesDir) fs.rmSync(rulesDir, { recursive: true, force: true });
});

describe('acknowledgements reach open windows', () => {
  it('alerts fired and acknowledged by other processes arrive as alerts.changed, with who acknowledged; the window’s own ack is its session’s', async () => {
    const { dataDir, token } = serving.running;
    // Another process's evaluator (its own connection to the store file) fires MemoryHigh on two hosts.
    fireMemoryAlerts(dataDir, `${dataDir}-rules`, [
      { name: 'local', percent: 97.5 },
      { name: 'beta', percent: 95 },
    ]);
    await waitFor('both alerts firing, heard from the other process', () => heard.length >= 2);
    expect(heard.map(({ change, alert }) => [change, alert.id, alert.state])).toEqual([
      ['firing', 1, 'firing'],
      ['firing', 2, 'firing'],
    ]);

    const cli = await runSutazaiAsync(['alerts', '--ack', '1', '--json'], dataDir);
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    const byCli = JSON.parse(cli.stdout) as Alert;
    expect(byCli.acknowledged?.by).toMatch(/^cli:./);
    await waitFor('the command’s acknowledgement in the window', () => heard.length >= 3);
    expect(heard[2]).toMatchObject({ change: 'acknowledged', alert: { id: 1, state: 'firing', acknowledged: byCli.acknowledged } });

    const byWindow = await serving.client.call('alerts.ack', { id: 2 });
    const session = `web:${createHash('sha256').update(token).digest('hex').slice(0, 8)}`;
    expect(byWindow.acknowledged?.by).toBe(session);
    await waitFor('the window’s own acknowledgement', () => heard.length >= 4);
    // A round trip after the last change: anything sent before it has arrived; each change came once.
    await serving.client.call('alerts.list', {});
    expect(heard.map(({ change, alert }) => [change, alert.id, alert.acknowledged?.by ?? null])).toEqual([
      ['firing', 1, null],
      ['firing', 2, null],
      ['acknowledged', 1, byCli.acknowledged!.by],
      ['acknowledged', 2, session],
    ]);

    // The command line lists both with who acknowledged each.
    const listed = JSON.parse((await runSutazaiAsync(['alerts', '--json'], dataDir)).stdout) as { alerts: Alert[] };
    expect(listed.alerts.map((alert) => [alert.id, alert.acknowledged?.by])).toEqual([
      [2, session],
      [1, byCli.acknowledged!.by],
    ]);
  });
});
