// The policy the control center pushes to a runtime (SetAccessState's abac_policy_yaml) says
// what the control center itself decides: the same rules, with where each was written, and
// the host's install, name and labels under `target:`; nothing for a host under rbac.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRuntimePolicy, type Action } from '../../../agents-runtime/src/access';
import { createAccessPolicy } from '../../../electron/backend/access/access-policy';
import { createPolicyGate, type PolicyFacts } from '../../../electron/backend/access/policy-gate';
import type { OperatorAttributes } from '../../../electron/contract';
import { makeTempDir } from '../../support/temp-dir';

const tmp = makeTempDir('sutazai-pushed-policy-');
afterAll(() => tmp.remove());

const abac = { environment: 'production', system_integration: { security: { access_control: 'abac' } } };
const rbac = { environment: 'production', system_integration: { security: { access_control: 'rbac' } } };
const attributes: Record<string, OperatorAttributes> = { vera: { team: 'vendor', hostLabels: ['rack=b4'] }, ada: {} };

/** The store's answers as plain data: hosts 1 (rack=b4) and 2 (rack=a1) in prod under abac, host 3 in lab under rbac. */
const facts: PolicyFacts = {
  host: (id) =>
    ({ 1: { name: 'gpu-b4', labels: ['rack=b4'] }, 2: { name: 'gpu-a1', labels: ['rack=a1'] }, 3: { name: 'lab-1', labels: [] } })[id] ??
    null,
  installOfHost: (id) => (id === 3 ? 'lab' : 'prod'),
  installHostConfigs: (name) =>
    name === 'prod'
      ? [
          { hostId: 1, config: abac },
          { hostId: 2, config: abac },
        ]
      : [{ hostId: 3, config: rbac }],
  operatorAttributes: (name) => attributes[name] ?? {},
  inventory: () => ({ resources: [], operators: [] }),
};

describe('the policy pushed to a runtime', () => {
  const dir = path.join(tmp.path, 'policies');
  fs.mkdirSync(dir);
  fs.writeFileSync(
    path.join(dir, 'site.yaml'),
    'rules:\n  - name: everyone\n    effect: allow\n  - name: vendor-never-scales\n    effect: deny\n    actions: [scale]\n    operators: { attributes: { team: vendor } }\n',
  );
  const logger = { warn: () => {}, info: () => {} };
  const policy = createAccessPolicy({ folders: () => [dir], inventory: () => facts.inventory(), logger });
  const gate = createPolicyGate({ policy, facts, now: () => Date.UTC(2026, 5, 1, 12), timeZone: 'UTC' });
  const runtime = createRuntimePolicy();

  it('decides on each host as the control center does', () => {
    const cases: Array<[number, string, 'operator' | 'admin', Action, string]> = [
      [1, 'vera', 'operator', 'control', 'RestartProcess'],
      [2, 'vera', 'operator', 'control', 'RestartProcess'],
      [1, 'vera', 'operator', 'scale', 'ScaleProcess'],
      [2, 'ada', 'admin', 'control', 'StopProcess'],
      [1, 'vera', 'operator', 'logs', 'TailLogs'],
    ];
    for (const [hostId, name, role, action, method] of cases) {
      const here = gate.decide({ name, role }, action, { hostId, process: 'agent' })!;
      const there = runtime.judge({
        policyYaml: gate.pushedPolicy(hostId),
        operator: { name, role, attributes: attributes[name]! },
        method,
        request: method === 'TailLogs' ? { instance: 'agent-2' } : { name: 'agent' },
        atMs: Date.UTC(2026, 5, 1, 12),
      })!;
      expect([hostId, name, method, there]).toEqual([
        hostId,
        name,
        method,
        { allowed: here.allowed, rule: here.rule, ...('reason' in here ? { reason: here.reason } : {}) },
      ]);
    }
    expect(gate.decide({ name: 'vera', role: 'operator' }, 'control', { hostId: 2, process: 'agent' })).toMatchObject({
      allowed: false,
      reason: "vera's attribute hostLabels (rack=b4) selects hosts labelled rack=b4, and gpu-a1 is not",
    });
  });

  it('names each rule where it was written and the host under target:, and is empty under rbac', () => {
    const text = gate.pushedPolicy(1);
    expect(text).toContain(`source: ${path.join(dir, 'site.yaml')}:4:5`);
    expect(text).toMatch(
      /target:\n {2}install: prod\n {2}host_name: gpu-b4\n {2}host_labels:\n {4}- rack=b4\n {2}environment: production\n/,
    );
    expect(runtime.problems(text)).toEqual([]);
    expect(gate.pushedPolicy(3)).toBe('');
  });
});
