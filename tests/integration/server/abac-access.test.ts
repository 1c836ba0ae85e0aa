// access_control: abac in the control center (issue 14, item 3), through a real backend and
// its real SQLite store, each pipe signed in as its operator: the shipped policy
// (config/policies/default.yaml: allow by role) and a site policy in the data directory's
// policies/; an operator limited to rack=b4 acts on the host labelled so and is refused on
// the other host of the same install, naming why; a deny rule wins and is named; an install
// under rbac keeps the roles alone; a policy file's typo and a rule that matches nothing are
// reported with file:line:column.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../../electron/backend/app/backend';
import { createHostsRepo } from '../../../electron/backend/store/hosts-repo';
import { openStore } from '../../../electron/backend/store/open-store';
import { ApiError, type ApiClient } from '../../../electron/contract';
import { codeOf } from '../../support/api-pipes';
import { startQuietBackend } from '../../support/backend-harness';
import { seedRecordedInstalls } from '../../support/recorded-installs';
import { makeTempDir } from '../../support/temp-dir';

const tmp = makeTempDir('sutazai-abac-');
const POLICY = `rules:
  - name: vendor-never-scales
    effect: deny
    actions: [scale]
    operators:
      attributes: { team: vendor }
  - name: typo
    effect: deny
    acions: [logs]
  - name: misspelt-rack
    effect: deny
    resources: { host_labels: [rack=b5] }
`;

let backend: Backend;
let admin: ApiClient;
let vera: ApiClient;
let axel: ApiClient;
const ids: Record<string, number> = {};

beforeAll(async () => {
  const dataDir = tmp.path;
  const store = openStore({ dataDir });
  try {
    // 127.0.0.1 port 1: nothing listens, so a call let through fails at once on the connection, not at the access check.
    seedRecordedInstalls(store.db, [
      {
        name: 'prod',
        config: 'system_integration:\n  security:\n    access_control: abac\n',
        hosts: [
          { name: 'gpu-b4', address: '127.0.0.1', role: 'both', state: 'installed' },
          { name: 'gpu-a1', address: '127.0.0.1', role: 'agent', state: 'installed' },
        ],
      },
      { name: 'lab', hosts: [{ name: 'lab-1', address: '127.0.0.1', role: 'both', state: 'installed' }] },
    ]);
    const hosts = createHostsRepo(store.db);
    for (const host of hosts.list()) ids[host.name] = host.id;
    hosts.update(ids['gpu-b4']!, { labels: ['rack=b4', 'gpu'] }, 2);
    hosts.update(ids['gpu-a1']!, { labels: ['rack=a1'] }, 2);
    hosts.update(ids['lab-1']!, { labels: ['rack=a1'] }, 2);
  } finally {
    store.close();
  }
  fs.mkdirSync(path.join(dataDir, 'policies'));
  fs.writeFileSync(path.join(dataDir, 'policies', 'site.yaml'), POLICY);
  backend = await startQuietBackend(dataDir);
  admin = backend.openClient('admin');
  await admin.call('operators.add', { name: 'ada', role: 'admin', password: 'the password of ada' });
  await admin.call('operators.add', {
    name: 'vera',
    role: 'operator',
    password: 'the password of vera',
    attributes: { team: 'vendor', hostLabels: ['rack=b4'] },
  });
  vera = backend.openClient('vera');
  await vera.call('session.signIn', { name: 'vera', password: 'the password of vera' });
  // An admin of rack b4 alone: the role allows installs and uninstalls, the attribute bounds where.
  await admin.call('operators.add', {
    name: 'axel',
    role: 'admin',
    password: 'the password of axel',
    attributes: { hostLabels: ['rack=b4'] },
  });
  axel = backend.openClient('axel');
  await axel.call('session.signIn', { name: 'axel', password: 'the password of axel' });
}, 60_000);

afterAll(async () => {
  admin?.close();
  vera?.close();
  axel?.close();
  await backend?.close();
  tmp.remove();
});

/** The refusal of a call: its code and message (the call must be refused). */
async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string; remedy: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return { code: error.code, message: error.message, remedy: error.remedy };
    throw error;
  }
  throw new Error('the call was not refused');
}

describe('access_control: abac in the control center', () => {
  it('lets the operator limited to rack=b4 restart an agent there (the policy allows; the unreachable host then fails the call)', async () => {
    expect(await vera.call('access.explain', { action: 'control', hostId: ids['gpu-b4']!, process: 'agent' })).toEqual({
      allowed: true,
      by: 'policy',
      reason: null,
      rule: { name: 'allow-by-role', source: expect.stringMatching(/config\/policies\/default\.yaml:\d+:5$/) },
    });
    const code = await codeOf(vera.call('fleet.restart', { hostId: ids['gpu-b4']!, process: 'agent' }));
    expect(code).not.toMatch(/^(ACCESS_|SIGN_IN)/);
  });

  it('refuses the same restart on the other host of the install, naming the attribute', async () => {
    const refused = await refusal(vera.call('fleet.restart', { hostId: ids['gpu-a1']!, process: 'agent' }));
    expect(refused.code).toBe('ACCESS_POLICY_DENIED');
    expect(refused.message).toBe(
      "vera may not control process agent on host gpu-a1 on install prod: vera's attribute hostLabels (rack=b4) selects hosts labelled rack=b4, and gpu-a1 is not.",
    );
    expect(await vera.call('access.explain', { action: 'control', hostId: ids['gpu-a1']!, process: 'agent' })).toMatchObject({
      allowed: false,
      by: 'policy',
      rule: null,
    });
    // Reading the host's logs is refused the same way; the admin, with no such limit, is let through.
    expect(await codeOf(vera.call('fleet.logs', { hostId: ids['gpu-a1']!, instance: 'agent-1' }))).toBe('ACCESS_POLICY_DENIED');
    expect(await admin.call('access.explain', { action: 'control', hostId: ids['gpu-a1']!, process: 'agent' })).toMatchObject({
      allowed: true,
      by: 'policy',
    });
  });

  it('a deny rule wins over the shipped allow, and is named with its place', async () => {
    const refused = await refusal(vera.call('fleet.scale', { hostId: ids['gpu-b4']!, process: 'agent', replicas: 3 }));
    expect(refused.code).toBe('ACCESS_POLICY_DENIED');
    const site = path.join(tmp.path, 'policies', 'site.yaml');
    expect(refused.message).toContain(`denied by rule "vendor-never-scales" (${site}:2:5)`);
    expect(refused.remedy).toContain(`"vendor-never-scales" (${site}:2:5)`);
    expect(await vera.call('access.explain', { action: 'scale', hostId: ids['gpu-b4']!, process: 'agent' })).toEqual({
      allowed: false,
      by: 'policy',
      reason: `denied by rule "vendor-never-scales" (${site}:2:5)`,
      rule: { name: 'vendor-never-scales', source: `${site}:2:5` },
    });
  });

  it('an install under rbac keeps the roles alone, and the role still comes first under abac', async () => {
    expect(await vera.call('access.explain', { action: 'control', hostId: ids['lab-1']!, process: 'agent' })).toEqual({
      allowed: true,
      by: 'role',
      reason: null,
      rule: null,
    });
    expect(await vera.call('access.explain', { action: 'upgrade', install: 'prod' })).toMatchObject({ allowed: false, by: 'role' });
    expect(await codeOf(vera.call('installs.upgrade', { name: 'prod', bundle: 'sutazai@0.1.0' }))).toBe('ACCESS_DENIED');
  });

  it("reports the policy's typo and its rule that matches nothing at their file:line:column", async () => {
    const policy = await admin.call('access.policy', {});
    const site = path.join(tmp.path, 'policies', 'site.yaml');
    expect(policy.rules.map((rule) => [rule.name, rule.effect])).toEqual([
      ['allow-by-role', 'allow'],
      ['vendor-never-scales', 'deny'],
      ['misspelt-rack', 'deny'],
    ]);
    expect(policy.errors.map((error) => [error.code, error.line, error.column])).toEqual([['ACCESS_POLICY_INVALID', 9, 5]]);
    expect(policy.errors[0]!.message).toContain(`${site}:9:5: rule "typo" (rules.1): unknown key "acions"; did you mean actions?`);
    expect(policy.warnings.map((warning) => warning.message)).toEqual([
      `${site}:10:5: rule "misspelt-rack" matches nothing: no host carries host_labels rack=b5.`,
    ]);
    expect(policy.warnings[0]!.code).toBe('ACCESS_POLICY_UNMATCHED');
  });

  it('judges an install file by the install it names: the admin of rack b4 may not uninstall or roll back the hosts elsewhere', async () => {
    const text = 'name: prod\nbundle: sutazai@0.1.0\nhosts:\n  - name: gpu-b4\n    role: both\n  - name: gpu-a1\n    role: agent\n';
    const file = { text, fileName: path.join(tmp.path, 'prod.yaml') };
    const whole = await refusal(axel.call('installs.uninstallFile', { file }));
    expect(whole.code).toBe('ACCESS_POLICY_DENIED');
    expect(whole.message).toBe(
      "axel may not uninstall host gpu-a1 on install prod: axel's attribute hostLabels (rack=b4) selects hosts labelled rack=b4, and gpu-a1 is not.",
    );
    expect(await codeOf(axel.call('installs.rollbackFile', { file, host: 'gpu-a1' }))).toBe('ACCESS_POLICY_DENIED');
    expect(await codeOf(axel.call('installs.applyFile', { file }))).toBe('ACCESS_POLICY_DENIED');
    // The same by the install's name: a change of the whole install reaches gpu-a1 too.
    expect(await codeOf(axel.call('installs.uninstall', { name: 'prod' }))).toBe('ACCESS_POLICY_DENIED');
  });
});
