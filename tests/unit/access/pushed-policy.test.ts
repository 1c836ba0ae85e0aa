// The policy the control center pushes to a runtime (SetAccessState's abac_policy_yaml) says
// what the control center itself decides: the same rules, with where each was written, and
// the host's install, name and labels under `target:`; nothing for a host under rbac.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRuntimePolicy, type Action } from '../../../agents-runtime/src/access';
import { evaluatePolicy } from '../../../agents-runtime/src/access';
import { createAccessPolicy, loadPolicyFolders } from '../../../electron/backend/access/access-policy';
import { createPolicyGate, targetOf, targetsOf, type PolicyFacts } from '../../../electron/backend/access/policy-gate';
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

  it('judges audit.verifyHost on each host whose log it reads, as audit.hostLog {hostId} is: by install, or by host name', () => {
    const named = createPolicyGate({
      policy,
      facts: {
        ...facts,
        inventory: () => ({
          resources: [
            { install: 'prod', hostName: 'gpu-b4' },
            { install: 'prod', hostName: 'gpu-a1' },
          ],
          operators: [],
        }),
      },
      now: () => Date.UTC(2026, 5, 1, 12),
      timeZone: 'UTC',
    });
    expect(named.targets('audit.verifyHost', { install: 'prod' })).toEqual([{ hostId: 1 }, { hostId: 2 }]);
    expect(named.targets('audit.verifyHost', { host: 'gpu-a1' })).toEqual([{ hostId: 2 }]);
    expect(named.targets('audit.verifyHost', { host: 'nowhere' })).toEqual([]);
    const vera = { name: 'vera', role: 'operator' as const };
    // vera (rack=b4) may read her host's log, not gpu-a1's, nor the whole install's.
    expect(() => named.check(vera, 'view', named.targets('audit.verifyHost', { host: 'gpu-b4' })[0]!)).not.toThrow();
    expect(() => named.check(vera, 'view', named.targets('audit.verifyHost', { host: 'gpu-a1' })[0]!)).toThrow(/may not view/);
    expect(() => {
      for (const target of named.targets('audit.verifyHost', { install: 'prod' })) named.check(vera, 'view', target);
    }).toThrow(/may not view/);
  });

  it('judges a change of a whole install on each of its hosts: the operator limited to rack=b4 may not uninstall the other', () => {
    const vera = { name: 'vera', role: 'admin' as const };
    expect(gate.decide(vera, 'uninstall', { install: 'prod' })).toMatchObject({
      allowed: false,
      reason: "vera's attribute hostLabels (rack=b4) selects hosts labelled rack=b4, and gpu-a1 is not",
      resource: { install: 'prod', hostName: 'gpu-a1' },
    });
    expect(() => gate.check(vera, 'rollback', targetOf('installs.rollback', { name: 'prod' })!)).toThrow(/may not rollback host gpu-a1/);
    // The one host named is the one judged: hers is allowed, the other refused.
    expect(targetOf('installs.uninstall', { name: 'prod', host: 'gpu-b4' })).toEqual({ install: 'prod', hostName: 'gpu-b4' });
    expect(gate.decide(vera, 'uninstall', { install: 'prod', hostName: 'gpu-b4' })).toMatchObject({ allowed: true });
    expect(gate.decide(vera, 'uninstall', { install: 'prod', hostName: 'gpu-a1' })).toMatchObject({ allowed: false });
    // ada has no such limit; a read of the install is judged on the install alone.
    expect(gate.decide({ name: 'ada', role: 'admin' }, 'uninstall', { install: 'prod' })).toMatchObject({ allowed: true });
    expect(gate.decide(vera, 'view', { install: 'prod' })).toMatchObject({ allowed: true, resource: { install: 'prod' } });
  });

  it('judges the exports that name a host or an install: a support bundle of the other rack is refused', () => {
    const vera = { name: 'vera', role: 'admin' as const };
    const support = targetOf('support.collect', { target: { hostId: 2 }, logBytesPerProcess: 1024 });
    expect(support).toEqual({ hostId: 2, process: undefined });
    expect(() => gate.check(vera, 'export', support!)).toThrow(/may not export host gpu-a1/);
    expect(targetOf('support.collect', { target: { install: 'prod' } })).toEqual({ install: 'prod' });
    const config = targetOf('configBundles.export', { path: '/tmp/x.sutazai-config', format: 'yaml', install: 'prod' });
    expect(config).toEqual({ install: 'prod' });
    expect(gate.decide(vera, 'export', config!)).toMatchObject({ allowed: false, resource: { hostName: 'gpu-a1' } });
    // The whole inventory names no install itself: the gate reaches every install of the inventory (gate.targets).
    expect(targetOf('configBundles.export', { path: '/tmp/x.sutazai-config', format: 'yaml' })).toBeNull();
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

describe('a site rule that does not load', () => {
  it('takes the allow of its name with it: switching off the shipped allow with a typo leaves nothing allowed, not everything', () => {
    const shipped = path.join(tmp.path, 'shipped');
    const site = path.join(tmp.path, 'site');
    fs.mkdirSync(shipped);
    fs.mkdirSync(site);
    fs.writeFileSync(
      path.join(shipped, 'default.yaml'),
      'rules:\n  - name: allow-by-role\n    effect: allow\n  - name: no-uninstall\n    effect: deny\n    actions: [uninstall]\n',
    );
    fs.writeFileSync(
      path.join(site, 'site.yaml'),
      'rules:\n  - name: allow-by-role\n    effect: allow\n    enabled: flase\n  - name: no-uninstall\n    effect: deny\n    actoins: [uninstall]\n  - name: viewers\n    effect: allow\n    actions: [view]\n',
    );
    const loaded = loadPolicyFolders([shipped, site]);
    expect(loaded.errors.map((error) => [error.line, error.column])).toEqual([
      [4, 14],
      [7, 5],
    ]);
    // The shipped deny stays (the stricter), the shipped allow is gone with its broken replacement.
    expect(loaded.rules.map((rule) => rule.spec.name)).toEqual(['no-uninstall', 'viewers']);
    const olga = { name: 'olga', role: 'operator' as const, attributes: {} };
    const at = (action: Action) => evaluatePolicy(loaded.rules, { subject: olga, action, resource: { install: 'prod' }, atMs: 0 });
    expect(at('control')).toMatchObject({ allowed: false, rule: null });
    expect(at('view')).toMatchObject({ allowed: true, rule: { name: 'viewers' } });
    expect(at('uninstall')).toMatchObject({ allowed: false, rule: { name: 'no-uninstall' } });
  });
});

describe('a policy file that does not load (fail closed, session 8)', () => {
  const dir = path.join(tmp.path, 'broken');
  fs.mkdirSync(dir);
  fs.writeFileSync(
    path.join(dir, 'site.yaml'),
    'rules:\n  - name: everyone\n    effect: allow\n  - name: no-scale\n    effect: deny\n    actoins: [scale]\n',
  );
  const policy = createAccessPolicy({
    folders: () => [dir],
    inventory: () => facts.inventory(),
    logger: { warn: () => {}, info: () => {} },
  });
  const gate = createPolicyGate({ policy, facts, now: () => 0, timeZone: 'UTC' });
  const runtime = createRuntimePolicy();
  const vera = { name: 'vera', role: 'operator' as const };
  const where = `${path.join(dir, 'site.yaml')}:6:5`;

  it('refuses in the control center what the rest of the policy would allow, with ACCESS_POLICY_INVALID naming file:line:column', () => {
    expect(() => gate.check(vera, 'control', { hostId: 1, process: 'agent' })).toThrow(
      expect.objectContaining({ code: 'ACCESS_POLICY_INVALID', message: expect.stringContaining(where) }),
    );
    expect(gate.decide(vera, 'view', { hostId: 1 })).toMatchObject({ allowed: false, rule: null, reason: expect.stringContaining(where) });
    // An install under rbac is not the policy's to judge.
    expect(gate.decide(vera, 'control', { hostId: 3, process: 'agent' })).toBeNull();
  });

  it('pushes the problem to the runtime, which refuses every call the policy judges, and only those', () => {
    const text = gate.pushedPolicy(1);
    expect(text).toContain('invalid:');
    const call = (method: string, yaml = text) => ({
      policyYaml: yaml,
      operator: { name: 'vera', role: 'operator' as const, attributes: attributes.vera! },
      method,
      request: { name: 'agent' },
      atMs: 0,
    });
    expect(() => runtime.check(call('RestartProcess'))).toThrow(
      expect.objectContaining({ code: 'ACCESS_POLICY_INVALID', message: expect.stringContaining(where) }),
    );
    expect(() => runtime.check(call('ListProcesses'))).toThrow(expect.objectContaining({ code: 'ACCESS_POLICY_INVALID' }));
    // The control center's own calls and rbac hosts are not judged by the policy.
    expect(() => runtime.check({ ...call('RestartProcess'), operator: null })).not.toThrow();
    expect(() => runtime.check(call('RestartProcess', ''))).not.toThrow();
    // A pushed text the runtime cannot read itself fails closed too.
    expect(() => runtime.check(call('RestartProcess', 'rules:\n  - name: x\n    efect: allow\n'))).toThrow(
      expect.objectContaining({ code: 'ACCESS_POLICY_INVALID', message: expect.stringContaining('pushed policy:3:5') }),
    );
  });
});

describe('calls naming several hosts', () => {
  it('name each host of hostIds or hosts[], once', () => {
    expect(targetsOf('probes.start', { hostIds: [1, 2, 1] })).toEqual([{ hostId: 1 }, { hostId: 2 }]);
    expect(targetsOf('installs.preflight', { hosts: [{ hostId: 2, role: 'agent', gpu: false }] })).toEqual([{ hostId: 2 }]);
    expect(targetsOf('fleet.restart', { hostId: 1, process: 'agent' })).toEqual([{ hostId: 1, process: 'agent' }]);
    expect(targetsOf('access.explain', { hostIds: [1] })).toEqual([]);
  });
});
