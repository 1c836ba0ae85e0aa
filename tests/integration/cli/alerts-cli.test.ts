import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../../electron/contract';
import { createAlertsRepo } from '../../../electron/backend/fleet/alerts/alerts-repo';
import { openStore } from '../../../electron/backend/store/open-store';
import { fireMemoryAlerts } from '../../support/alerts-on-store';
import { runSutazai } from '../../support/run-sutazai';
import { makeTempDir } from '../../support/temp-dir';

const dir = makeTempDir('sutazai-alerts-cli-');
const dataDir = path.join(dir.path, 'data');
const sutazai = (...args: string[]) => runSutazai(args, dataDir);

beforeAll(() => {
  // Builds the command once (and makes the data directory) before the cases time anything.
  const first = sutazai('alerts', '--json');
  expect(first.stderr).toBe('');
  expect(first.code).toBe(0);
  expect(JSON.parse(first.stdout)).toEqual({ alerts: [] });
  // What a serving backend would have stored: a memory alert that fired on this machine, evaluated by the real evaluator.
  fireMemoryAlerts(dataDir, path.join(dir.path, 'rules'), [{ name: 'local', percent: 97.5 }]);
});
afterAll(() => dir.remove());

describe('sutazai alerts', () => {
  it('lists what fires, for people and for scripts', () => {
    const json = sutazai('alerts', '--json');
    expect(json.code).toBe(0);
    const { alerts } = JSON.parse(json.stdout) as { alerts: Alert[] };
    expect(alerts).toMatchObject([
      {
        id: 1,
        rule: 'MemoryHigh',
        state: 'firing',
        severity: 'critical',
        value: 97.5,
        acknowledged: null,
        summary: 'local: memory is 97.5% used (over 90%)',
      },
    ]);

    const text = sutazai('alerts');
    expect(text.code).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATE\s+SEVERITY\s+RULE\s+SINCE\s+ACKNOWLEDGED\s+SUMMARY$/);
    expect(lines[1]).toMatch(/^1\s+firing\s+critical\s+MemoryHigh\s+\S+Z\s+-\s+local: memory is 97\.5% used \(over 90%\)$/);
  });

  it('--ack records who acknowledged and when, once; the store keeps it in the alert history', () => {
    const acked = sutazai('alerts', '--ack', '1', '--json');
    expect(acked.stderr).toBe('');
    expect(acked.code).toBe(0);
    const alert = JSON.parse(acked.stdout) as Alert;
    expect(alert).toMatchObject({ id: 1, state: 'firing', acknowledged: { by: expect.stringMatching(/^cli/), atMs: expect.any(Number) } });

    const again = sutazai('alerts', '--ack', '1');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(
      `acknowledged by ${alert.acknowledged!.by} at ${new Date(alert.acknowledged!.atMs).toISOString().replace(/\.\d{3}Z$/, 'Z')}`,
    );

    const store = openStore({ dataDir });
    try {
      const history = createAlertsRepo(store.db).history(1);
      expect(history.map((entry) => [entry.change, entry.actor])).toEqual([
        ['firing', null],
        ['acknowledged', alert.acknowledged!.by],
      ]);
    } finally {
      store.close();
    }
    expect(sutazai('alerts').stdout).toContain(alert.acknowledged!.by);
  });

  it('an unknown or malformed id is refused with a remedy and an exit code that says which', () => {
    const missing = sutazai('alerts', '--ack', '99');
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('error ALERT_NOT_FOUND: There is no alert 99.');
    expect(missing.stderr).toContain('remedy: Run `sutazai alerts` for the alerts and their ids; resolved alerts are kept 30 days.');

    const malformed = sutazai('alerts', '--ack', 'one');
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('BAD_PARAMS');
  });

  it('--rules lists the shipped rules and names a typo in an operator file by file:line:column', () => {
    const clean = sutazai('alerts', '--rules', '--json');
    expect(clean.code).toBe(0);
    const loaded = JSON.parse(clean.stdout) as { rules: Array<{ name: string }>; errors: unknown[] };
    expect(loaded.errors).toEqual([]);
    expect(loaded.rules.map((rule) => rule.name)).toContain('ProcessCrashLoop');

    const operator = path.join(dataDir, 'alerts');
    fs.mkdirSync(operator, { recursive: true });
    fs.writeFileSync(path.join(operator, 'site.yaml'), 'rules:\n  - name: DiskFull\n    kind: filesytem-usage\n    above: 80\n');
    const broken = sutazai('alerts', '--rules');
    expect(broken.code).toBe(2);
    expect(broken.stdout).toMatch(/^RULE\s+KIND\s+SEVERITY\s+FOR\s+SETTINGS\s+FILE$/m);
    expect(broken.stdout).toMatch(/^MemoryHigh\s+memory-usage\s+warning\s+300s\s+above=90\s+\S+default\.yaml:\d+:\d+$/m);
    expect(broken.stdout).toContain(
      `error ALERT_RULE_INVALID: ${path.join(operator, 'site.yaml')}:3:11: rule "DiskFull" (rules.0): unknown kind "filesytem-usage"; did you mean filesystem-usage?`,
    );
    expect(broken.stdout).toContain('remedy: Correct that rule in its file');
  });
});
