// `sutazai policy`: the access policy as loaded (the shipped allow-by-role, then the data
// directory's policies/), for people and for scripts; a typo in a site file named by
// file:line:column (exit 2), a rule that selects nothing named as a warning.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSutazai } from '../../support/run-sutazai';
import { makeTempDir } from '../../support/temp-dir';

const dir = makeTempDir('sutazai-policy-cli-');
const dataDir = path.join(dir.path, 'data');
const sutazai = (...args: string[]) => runSutazai(args, dataDir);
afterAll(() => dir.remove());

describe('sutazai policy', () => {
  it('lists the shipped rule, then names a typo and a rule that selects nothing', () => {
    const clean = sutazai('policy', '--json');
    expect(clean.stderr).toBe('');
    expect(clean.code).toBe(0);
    const loaded = JSON.parse(clean.stdout) as { rules: Array<{ name: string; effect: string }>; errors: unknown[]; warnings: unknown[] };
    expect(loaded).toMatchObject({ rules: [{ name: 'allow-by-role', effect: 'allow' }], errors: [], warnings: [] });

    const site = path.join(dataDir, 'policies', 'site.yaml');
    fs.mkdirSync(path.dirname(site), { recursive: true });
    fs.writeFileSync(
      site,
      'rules:\n  - name: typo\n    effect: deny\n    acions: [logs]\n  - name: nowhere\n    effect: deny\n    resources: { installs: [prdo] }\n',
    );
    const broken = sutazai('policy');
    expect(broken.code).toBe(2);
    expect(broken.stdout).toMatch(/^RULE\s+EFFECT\s+FILE$/m);
    expect(broken.stdout).toMatch(/^allow-by-role\s+allow\s+\S+default\.yaml:\d+:5$/m);
    expect(broken.stdout).toMatch(/^nowhere\s+deny\s+\S+site\.yaml:5:5$/m);
    expect(broken.stdout).toContain(
      `error ACCESS_POLICY_INVALID: ${site}:4:5: rule "typo" (rules.0): unknown key "acions"; did you mean actions?`,
    );
    expect(broken.stdout).toContain(
      `warning ACCESS_POLICY_UNMATCHED: ${site}:5:5: rule "nowhere" matches nothing: no resource has installs prdo.`,
    );
    expect(broken.stdout).toContain('remedy: Correct that rule in its file');
  });
});
