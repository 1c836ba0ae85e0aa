import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ALERT_RULE_KINDS } from '../../../electron/contract';
import { loadAlertRules, parseAlertRules } from '../../../electron/backend/fleet/alerts/load-alert-rules';
import { makeTempDir } from '../../support/temp-dir';

const shipped = path.resolve(__dirname, '../../../config/alerts');
const dirs: Array<{ remove(): void }> = [];
afterEach(() => dirs.splice(0).forEach((dir) => dir.remove()));

function folder(files: Record<string, string>): string {
  const dir = makeTempDir('sutazai-alert-rules-');
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir.path, name), text);
  return dir.path;
}

describe('alert rule files', () => {
  it('the shipped default set loads without an error and covers every kind the issue lists', () => {
    const { rules, errors } = loadAlertRules([shipped]);
    expect(errors).toEqual([]);
    expect(new Set(rules.map((rule) => rule.spec.kind))).toEqual(new Set(ALERT_RULE_KINDS));
    const byName = Object.fromEntries(rules.map((rule) => [rule.spec.name, rule.spec]));
    expect(byName.MemoryHigh).toMatchObject({ kind: 'memory-usage', above: 90, for: 5 * 60_000 });
    expect(byName.FilesystemAlmostFull).toMatchObject({ kind: 'filesystem-usage', above: 90 });
    expect(byName.CertificateExpiring).toMatchObject({ kind: 'certificate-expiry', within: 30 * 86_400_000 });
    expect(byName.ProcessCrashLoop).toMatchObject({ for: 0, severity: 'critical' });
    expect(rules.find((rule) => rule.spec.name === 'MemoryHigh')!.source).toMatch(/default\.yaml:\d+:\d+$/);
  });

  it('a misspelt key names file:line:column of the key and the key it probably meant; the other rules load', () => {
    const text = [
      'rules:',
      '  - name: DiskFull',
      '    kind: filesystem-usage',
      '    abve: 90',
      '  - name: Hot',
      '    kind: gpu-temperature',
      '    above: 80',
      '',
    ].join('\n');
    const { rules, errors } = parseAlertRules(text, '/etc/rules.yaml');
    expect(rules.map((rule) => rule.spec.name)).toEqual(['Hot']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'ALERT_RULE_INVALID', file: '/etc/rules.yaml', line: 4, column: 5 });
    expect(errors[0]!.message).toBe(
      '/etc/rules.yaml:4:5: rule "DiskFull" (rules.0): unknown key "abve" for kind filesystem-usage; did you mean above? ' +
        '(keys: name, for, severity, labels, enabled, kind, above).',
    );
    expect(errors[0]!.remedy).toMatch(/the other rules keep working/);
  });

  it('an unknown kind points at its value and suggests the kind it resembles', () => {
    const text = 'rules:\n  - name: Loop\n    kind: proces-crash-loop\n';
    const { rules, errors } = parseAlertRules(text, 'a.yaml');
    expect(rules).toEqual([]);
    expect(errors[0]).toMatchObject({ line: 3, column: 11 });
    expect(errors[0]!.message).toMatch(
      /^a\.yaml:3:11: rule "Loop" \(rules\.0\): unknown kind "proces-crash-loop"; did you mean process-crash-loop\?/,
    );
  });

  it('a bad duration, a bad threshold and a missing setting each name their place', () => {
    const text = [
      'rules:',
      '  - name: A',
      '    kind: host-offline',
      '    for: 5 minutes',
      '  - name: B',
      '    kind: memory-usage',
      '    above: 140',
      '  - name: C',
      '    kind: process-restarts',
      '    within: 10m',
      '',
    ].join('\n');
    const { rules, errors } = parseAlertRules(text, 'r.yaml');
    expect(rules).toEqual([]);
    expect(errors.map((error) => [error.line, error.column])).toEqual([
      [4, 10],
      [7, 12],
      [8, 5],
    ]);
    expect(errors[0]!.message).toMatch(/^r\.yaml:4:10: rule "A" \(rules\.0\): for: expected a duration such as 30s, 5m, 2h or 30d\.$/);
    expect(errors[1]!.message).toMatch(/^r\.yaml:7:12: rule "B" \(rules\.1\): above: /);
    expect(errors[2]!.message).toMatch(/^r\.yaml:8:5: rule "C" \(rules\.2\): restarts: is required \(expected number\)\.$/);
  });

  it('a YAML syntax error fails its file with line and column, and another file in the folder still loads', () => {
    const dir = folder({
      'a-broken.yaml': 'rules:\n  - name: X\n    kind: [unclosed\n',
      'b-good.yaml': 'rules:\n  - name: Loop\n    kind: process-crash-loop\n',
    });
    const { rules, errors } = loadAlertRules([dir]);
    expect(rules.map((rule) => rule.spec.name)).toEqual(['Loop']);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.file).toBe(path.join(dir, 'a-broken.yaml'));
    expect(errors[0]!.message.startsWith(`${path.join(dir, 'a-broken.yaml')}:${errors[0]!.line}:${errors[0]!.column}: `)).toBe(true);
    expect(errors[0]!.line).toBeGreaterThanOrEqual(3);
  });

  it('an operator folder that is not a readable folder is an error naming it; the shipped rules still load', () => {
    const notAFolder = path.join(folder({ alerts: 'a file where the folder should be\n' }), 'alerts');
    const { rules, errors } = loadAlertRules([shipped, notAFolder]);
    expect(rules.map((rule) => rule.spec.name)).toContain('ProcessCrashLoop');
    expect(errors).toEqual([
      expect.objectContaining({
        code: 'ALERT_RULE_INVALID',
        file: notAFolder,
        line: 1,
        column: 1,
        remedy: expect.stringMatching(/^Make it a folder/),
      }),
    ]);
    expect(errors[0]!.message.startsWith(`${notAFolder}:1:1: the rule folder cannot be read (ENOTDIR`)).toBe(true);
  });

  it('a file without rules: is refused with a remedy', () => {
    const { errors } = parseAlertRules('alerts:\n  - name: X\n', 'x.yaml');
    expect(errors[0]).toMatchObject({ line: 1, column: 1 });
    expect(errors[0]!.message).toMatch(/unknown top-level key "alerts": a rule file holds only `rules:`/);
  });

  it("the operator's folder replaces a shipped rule by name, switches one off, and may not name a rule twice", () => {
    const operator = folder({
      'mine.yaml': [
        'rules:',
        '  - name: MemoryHigh',
        '    kind: memory-usage',
        '    above: 80',
        '    for: 1m',
        '  - name: GpuHot',
        '    kind: gpu-temperature',
        '    above: 85',
        '    enabled: false',
        '  - name: MemoryHigh',
        '    kind: memory-usage',
        '    above: 70',
        '',
      ].join('\n'),
    });
    const { rules, errors } = loadAlertRules([shipped, operator]);
    const memory = rules.find((rule) => rule.spec.name === 'MemoryHigh')!;
    expect(memory.spec).toMatchObject({ above: 80, for: 60_000 });
    expect(memory.source).toBe(`${path.join(operator, 'mine.yaml')}:2:5`);
    expect(rules.some((rule) => rule.spec.name === 'GpuHot')).toBe(false);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ line: 10, column: 5 });
    expect(errors[0]!.message).toMatch(/rule "MemoryHigh" is defined twice/);
  });
});
