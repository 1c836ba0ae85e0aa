import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  evaluatePolicy,
  parsePolicy,
  unmatchedRules,
  withinHours,
  type AccessRequest,
  type AccessSubject,
} from '../../../agents-runtime/src/access';
import { closestMatch } from '../../../electron/backend/config/closest-match';

const POLICY = `rules:
  - name: everyone-by-role
    effect: allow
  - name: vendor-no-logs-on-prod
    effect: deny
    actions: [logs]
    operators:
      attributes: { team: vendor }
    resources:
      installs: [prod]
  - name: night-freeze
    effect: deny
    actions: [upgrade, install]
    hours: "22:00-06:00"
    time_zone: Europe/Berlin
`;

const vendor: AccessSubject = { name: 'vera', role: 'operator', attributes: { team: 'vendor', hostLabels: ['rack=b4'] } };
const ops: AccessSubject = { name: 'olga', role: 'operator', attributes: { team: 'ops' } };
// 2026-06-01 12:00 UTC is 14:00 in Berlin (summer time); 22:30 UTC is 00:30 there.
const NOON = Date.UTC(2026, 5, 1, 12, 0);
const NIGHT = Date.UTC(2026, 5, 1, 22, 30);

function request(subject: AccessSubject, action: AccessRequest['action'], resource: AccessRequest['resource'], atMs = NOON): AccessRequest {
  return { subject, action, resource, atMs };
}

describe('abac policy', () => {
  const { rules, errors } = parsePolicy(POLICY, 'site.yaml');

  it('loads every rule with where it was written', () => {
    expect(errors).toEqual([]);
    expect(rules.map((rule) => [rule.spec.name, rule.source])).toEqual([
      ['everyone-by-role', 'site.yaml:2:5'],
      ['vendor-no-logs-on-prod', 'site.yaml:4:5'],
      ['night-freeze', 'site.yaml:11:5'],
    ]);
  });

  it('an operator limited to rack=b4 may restart there and is refused elsewhere, naming the attribute', () => {
    const b4 = { install: 'prod', hostName: 'gpu-7', hostLabels: ['rack=b4', 'gpu'], process: 'agent' };
    const a1 = { install: 'prod', hostName: 'gpu-1', hostLabels: ['rack=a1'], process: 'agent' };
    expect(evaluatePolicy(rules, request(vendor, 'control', b4))).toEqual({
      allowed: true,
      rule: { name: 'everyone-by-role', source: 'site.yaml:2:5' },
    });
    const refused = evaluatePolicy(rules, request(vendor, 'control', a1));
    expect(refused).toEqual({
      allowed: false,
      rule: null,
      reason: "vera's attribute hostLabels (rack=b4) selects hosts labelled rack=b4, and gpu-1 is not",
    });
    // The limit is the operator's own: another operator of the same role restarts on either.
    expect(evaluatePolicy(rules, request(ops, 'control', a1)).allowed).toBe(true);
  });

  it('deny wins over allow and names its rule', () => {
    const decision = evaluatePolicy(rules, request(vendor, 'logs', { install: 'prod', hostLabels: ['rack=b4'], process: 'agent' }));
    expect(decision).toEqual({
      allowed: false,
      rule: { name: 'vendor-no-logs-on-prod', source: 'site.yaml:4:5' },
      reason: 'denied by rule "vendor-no-logs-on-prod" (site.yaml:4:5)',
    });
    // The same read on another install: no deny selects it.
    expect(evaluatePolicy(rules, request(vendor, 'logs', { install: 'lab', hostLabels: ['rack=b4'] })).allowed).toBe(true);
  });

  it('names operators without case, as the control center does: a deny naming Vera refuses vera', () => {
    const named = parsePolicy(
      'rules:\n  - name: all\n    effect: allow\n  - name: not-vera\n    effect: deny\n    operators: { names: [Vera] }\n',
      'p.yaml',
    ).rules;
    expect(evaluatePolicy(named, request(vendor, 'view', { install: 'prod' }))).toMatchObject({
      allowed: false,
      rule: { name: 'not-vera' },
    });
    expect(evaluatePolicy(named, request(ops, 'view', { install: 'prod' })).allowed).toBe(true);
  });

  it('a rule with hours counts only within them, in its own time zone', () => {
    const prod = { install: 'prod' };
    expect(evaluatePolicy(rules, request(ops, 'upgrade', prod, NOON)).allowed).toBe(true);
    expect(evaluatePolicy(rules, request(ops, 'upgrade', prod, NIGHT))).toMatchObject({ allowed: false, rule: { name: 'night-freeze' } });
    expect(withinHours('22:00-06:00', 'UTC', NIGHT)).toBe(true);
    expect(withinHours('08:00-18:00', 'UTC', NIGHT)).toBe(false);
    // 22:30 UTC is 07:30 of the next day in Tokyo.
    expect(withinHours('06:00-08:00', 'Asia/Tokyo', NIGHT)).toBe(true);
  });

  it('refuses what no rule allows, and an operator outside their own hours', () => {
    const only = parsePolicy('rules:\n  - name: viewers-view\n    effect: allow\n    actions: [view]\n', 'p.yaml').rules;
    expect(evaluatePolicy(only, request(ops, 'control', { install: 'prod', process: 'agent' }))).toEqual({
      allowed: false,
      rule: null,
      reason: 'no rule of the access policy allows control on process agent on install prod for olga',
    });
    const dayShift: AccessSubject = { ...ops, attributes: { hours: '08:00-18:00' } };
    expect(evaluatePolicy(rules, request(dayShift, 'view', { install: 'prod' }, NIGHT), { operatorTimeZone: 'UTC' })).toMatchObject({
      allowed: false,
      reason: "olga's attribute hours (08:00-18:00 UTC) does not include now",
    });
  });

  it('a typo is an error at its file:line:column, and the other rules still load', () => {
    const text =
      'rules:\n  - name: ok\n    effect: allow\n  - name: typo\n    effect: deny\n    acions: [logs]\n  - name: bad-action\n    effect: deny\n    actions: [restart]\n';
    const parsed = parsePolicy(text, 'config/policies/site.yaml', { suggest: closestMatch });
    expect(parsed.rules.map((rule) => rule.spec.name)).toEqual(['ok']);
    expect(parsed.errors.map((error) => [error.line, error.column])).toEqual([
      [6, 5],
      [9, 15],
    ]);
    expect(parsed.errors[0]!.message).toMatch(
      /^config\/policies\/site\.yaml:6:5: rule "typo" \(rules\.1\): unknown key "acions"; did you mean actions\?/,
    );
    expect(parsed.errors[1]!.message).toMatch(/^config\/policies\/site\.yaml:9:15: rule "bad-action" \(rules\.2\): actions\.0: /);
  });

  it('hours need a stated time zone; a syntax error names its place', () => {
    const noZone = parsePolicy('rules:\n  - name: x\n    effect: deny\n    hours: "08:00-18:00"\n', 'p.yaml');
    expect(noZone.errors[0]!.message).toContain('p.yaml:2:5: rule "x" (rules.0): time_zone: is required with hours');
    const badZone = parsePolicy('rules:\n  - name: x\n    effect: deny\n    hours: "08:00-18:00"\n    time_zone: Mars/Olympus\n', 'p.yaml');
    expect(badZone.errors[0]!.message).toContain('p.yaml:5:16:');
    const syntax = parsePolicy('rules:\n  - name: x\n   effect: deny\n', 'p.yaml');
    expect(syntax.errors).toHaveLength(1);
    expect(syntax.errors[0]!.line).toBe(3);
    expect(parsePolicy('policies: []\n', 'p.yaml').errors[0]!.message).toBe(
      'p.yaml:1:1: unknown top-level key "policies": a policy file holds only `rules:`.',
    );
  });

  it('the shipped policy loads and allows by role', () => {
    const shipped = parsePolicy(readFileSync('config/policies/default.yaml', 'utf8'), 'config/policies/default.yaml');
    expect(shipped.errors).toEqual([]);
    expect(evaluatePolicy(shipped.rules, request(ops, 'control', { install: 'prod', process: 'agent' })).allowed).toBe(true);
  });

  it('a rule that matches nothing is a warning with its location', () => {
    const text =
      'rules:\n  - name: fine\n    effect: deny\n    resources: { host_labels: [rack=b4] }\n  - name: misspelt-label\n    effect: deny\n    resources: { host_labels: [rack=b5] }\n  - name: nobody\n    effect: allow\n    operators: { attributes: { team: vendr } }\n';
    const parsed = parsePolicy(text, 'p.yaml');
    const warnings = unmatchedRules(parsed.rules, {
      resources: [{ install: 'prod', hostName: 'gpu-7', hostLabels: ['rack=b4'], process: 'agent' }],
      operators: [vendor, ops],
    });
    expect(warnings.map((warning) => warning.message)).toEqual([
      'p.yaml:5:5: rule "misspelt-label" matches nothing: no host carries host_labels rack=b5.',
      'p.yaml:8:5: rule "nobody" matches nothing: no operator has the roles, names and attributes under operators:.',
    ]);
  });
});
