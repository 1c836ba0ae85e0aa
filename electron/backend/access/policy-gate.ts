import {
  describeResource,
  evaluatePolicy,
  processOfInstance,
  type AccessResource,
  type AccessSubject,
  type PolicyDecision,
  type PolicyInventory,
} from '../../../agents-runtime/src/access';
import { stringify } from 'yaml';
import { ApiError, changesState, type Action, type OperatorAttributes, type Role } from '../../contract';
import type { AccessPolicy, PolicyFinding } from './access-policy';

/** What a call names: a host (and on it a process), or an install (every host of it, or the one named by `hostName`). */
export interface AccessTarget {
  readonly hostId?: number | undefined;
  readonly install?: string | undefined;
  /** With `install`: the one host of it the call acts on (installs.rollback and uninstall's `host`). */
  readonly hostName?: string | undefined;
  readonly process?: string | undefined;
}

/** The control center's facts about a resource: each install host's merged configuration, each host's labels. */
export interface PolicyFacts {
  host(hostId: number): { name: string; labels: readonly string[] } | null;
  installOfHost(hostId: number): string | null;
  /** The merged configuration of each host of an install, as last applied (install_hosts.config). */
  installHostConfigs(install: string): ReadonlyArray<{ hostId: number; config: unknown }>;
  operatorAttributes(name: string): OperatorAttributes;
  inventory(): PolicyInventory;
}

/**
 * A decision on a resource, with whether the policy took part (abac) or the role alone did
 * (rbac); `invalid` when it was refused because a policy file does not load (fail closed).
 */
export type TargetDecision = PolicyDecision & {
  readonly policy: boolean;
  readonly resource: AccessResource;
  readonly invalid?: PolicyFinding;
};

export interface PolicyGate {
  /** The policy's decision on `action` over `target` for the operator; null when the target's install uses rbac (roles alone). */
  decide(operator: { name: string; role: Role }, action: Action, target: AccessTarget): TargetDecision | null;
  /**
   * Throws ACCESS_POLICY_DENIED when the policy refuses, ACCESS_POLICY_INVALID while a policy
   * file does not load (the policy fails closed: a broken deny must not open what it closed).
   */
  check(operator: { name: string; role: Role }, action: Action, target: AccessTarget): void;
  /**
   * Every resource a call's parameters name (targetsOf), with the hosts and installs the
   * parameters reach only through the store: a whole-inventory export reaches every install.
   */
  targets(what: string, params: unknown): AccessTarget[];
  /**
   * The policy as the runtime of `hostId` is to judge its calls by (SetAccessState's
   * abac_policy_yaml): the rules with where each was written, and `target:`, what the runtime
   * cannot know of itself (its install, host name and labels, environment, and the zone of
   * operators' own hours). Empty when the host's install uses rbac.
   */
  pushedPolicy(hostId: number): string;
}

export interface PolicyGateOptions {
  policy: AccessPolicy;
  facts: PolicyFacts;
  now: () => number;
  /** The zone of operators' own `hours` attribute: the control center's. */
  timeZone: string;
}

/**
 * `access_control: abac` in the control center: calls that name a host, process or install
 * of an install whose configuration says abac are judged by the policy (access-policy.ts),
 * after the role check. A host in no install, and the control center's own actions, have no
 * install to say abac: roles alone apply to them.
 */
export function createPolicyGate({ policy, facts, now, timeZone }: PolicyGateOptions): PolicyGate {
  const hostResource = (hostId: number, install: string, config: unknown, process: string | undefined): AccessResource | null => {
    const host = facts.host(hostId);
    return host && { install, hostName: host.name, hostLabels: host.labels, process, environment: environmentOf(config) };
  };
  /**
   * The resource a target names, and the hosts it reaches: an install-wide change (upgrade,
   * rollback, uninstall...) reaches each of its hosts (or the one named), so it is judged on
   * each, as the host's own action would be: an operator limited to rack=b4 may not uninstall
   * the install's hosts elsewhere. A read of the install is judged on the install alone.
   */
  const resourceOf = (
    target: AccessTarget,
    action: Action | null,
  ): { resource: AccessResource; hosts: AccessResource[]; abac: boolean } | null => {
    if (target.hostId !== undefined) {
      const install = facts.installOfHost(target.hostId);
      if (install === null) return null;
      const config = facts.installHostConfigs(install).find((entry) => entry.hostId === target.hostId)?.config;
      const resource = hostResource(target.hostId, install, config, target.process);
      return resource && { abac: accessControlOf(config) === 'abac', resource, hosts: [resource] };
    }
    if (target.install === undefined) return null;
    const entries = facts.installHostConfigs(target.install);
    if (entries.length === 0) return null;
    const environments = [...new Set(entries.map((entry) => environmentOf(entry.config)))];
    const hosts =
      action === null || !changesState(action)
        ? []
        : entries
            .map((entry) => hostResource(entry.hostId, target.install!, entry.config, target.process))
            .filter((resource): resource is AccessResource => resource !== null);
    const named = target.hostName === undefined ? [] : hosts.filter((host) => host.hostName === target.hostName);
    return {
      // Strictest wins: a host override that turned abac on for one host puts the install-wide actions under the policy.
      abac: entries.some((entry) => accessControlOf(entry.config) === 'abac'),
      resource: { install: target.install, environment: environments.length === 1 ? environments[0] : undefined },
      // A host name the install does not have is the handler's to refuse; until then every host counts.
      hosts: named.length > 0 ? named : hosts,
    };
  };
  /**
   * audit.verifyHost (and audit.acceptHostReset {host}) reads each host's own log, as audit.hostLog {hostId} does, so it is judged
   * on each host it reads: every host of `install`, or the host named `host` (by name, as the
   * CLI takes it). A name no install has reaches nothing: the handler refuses it.
   */
  const verifyHostTargets = (params: unknown): AccessTarget[] => {
    if (typeof params !== 'object' || params === null) return [];
    const p = params as { host?: unknown; install?: unknown };
    const hostIdsOf = (install: string) => facts.installHostConfigs(install).map((entry) => entry.hostId);
    if (typeof p.install === 'string') return hostIdsOf(p.install).map((hostId) => ({ hostId }));
    if (typeof p.host !== 'string') return [];
    const name = p.host;
    const installs = new Set(
      facts.inventory().resources.flatMap((resource) => (resource.hostName === name && resource.install ? [resource.install] : [])),
    );
    return [...installs]
      .flatMap((install) => hostIdsOf(install).filter((hostId) => facts.host(hostId)?.name === name))
      .map((hostId) => ({ hostId }));
  };
  const gate: PolicyGate = {
    decide(operator, action, target) {
      const found = resourceOf(target, action);
      if (found === null || !found.abac) return null;
      const subject: AccessSubject = { name: operator.name, role: operator.role, attributes: facts.operatorAttributes(operator.name) };
      const { rules, errors } = policy.current();
      // Fail closed: while any policy file has an error, nothing the policy judges is allowed.
      const broken = errors[0];
      if (broken !== undefined)
        return {
          allowed: false,
          rule: null,
          reason: `the access policy does not load (${broken.message.replace(/\.$/, '')}), so everything it judges is refused until it is fixed`,
          policy: true,
          resource: found.resource,
          invalid: broken,
        };
      const atMs = now();
      const judge = (resource: AccessResource) =>
        evaluatePolicy(rules, { subject, action, resource, atMs }, { operatorTimeZone: timeZone });
      // The first host that refuses refuses the whole action, named; allowed only when allowed on every host it reaches.
      let allowed: PolicyDecision | null = null;
      for (const host of found.hosts) {
        const decision = judge(host);
        if (!decision.allowed) return { ...decision, policy: true, resource: host };
        allowed ??= decision;
      }
      return { ...(allowed ?? judge(found.resource)), policy: true, resource: found.resource };
    },
    pushedPolicy(hostId) {
      const found = resourceOf({ hostId }, null);
      if (found === null || !found.abac) return '';
      const { install, hostName, hostLabels, environment } = found.resource;
      const target = { install, host_name: hostName, host_labels: [...(hostLabels ?? [])], environment, operator_time_zone: timeZone };
      const loaded = policy.current();
      const rules = loaded.rules.map(({ spec, source }) => ({ ...spec, source }));
      // Fail closed at the runtime too: while a policy file does not load, the runtime refuses what the policy judges.
      const invalid = loaded.errors.map((error) => error.message);
      return stringify(invalid.length > 0 ? { target, rules, invalid } : { target, rules });
    },
    targets(what, params) {
      if (what === 'audit.verifyHost' || what === 'audit.acceptHostReset') return verifyHostTargets(params);
      const named = targetsOf(what, params);
      if (isConfigExport(what) && named.length === 0 && typeof params === 'object' && params !== null) {
        // The whole inventory: every install it writes out, each judged as its own export would be.
        const installs = new Set(facts.inventory().resources.map((resource) => resource.install));
        return [...installs].filter((install): install is string => install !== undefined).map((install) => ({ install }));
      }
      return named;
    },
    check(operator, action, target) {
      const decision = gate.decide(operator, action, target);
      if (decision === null || decision.allowed) return;
      if (decision.invalid !== undefined) throw policyInvalidError(decision.invalid);
      throw new ApiError(
        'ACCESS_POLICY_DENIED',
        `${operator.name} may not ${action} ${describeResource(decision.resource)}: ${decision.reason}.`,
        decision.rule
          ? `Ask an admin to change the rule "${decision.rule.name}" (${decision.rule.source}), or someone it does not deny to do it.`
          : "Ask an admin to allow it in the access policy (config/policies, or policies/ of the data directory) or to change your operator's attributes, or someone who may to do it.",
      );
    },
  };
  return gate;
}

/** ACCESS_POLICY_INVALID for a policy file that does not load, at its file:line:column, with the way out. */
export function policyInvalidError(finding: PolicyFinding): ApiError {
  return new ApiError(
    'ACCESS_POLICY_INVALID',
    `The access policy does not load, so every action it judges is refused until it is fixed: ${finding.message}`,
    `Fix ${finding.file} at line ${finding.line}, column ${finding.column} (\`sutazai policy\` shows every problem and the rules that loaded); the refusals end as soon as the file loads.`,
  );
}

/**
 * Every resource a method's parameters name: one target (targetOf), or each host of a list
 * (`hostIds` of probes.start and installs.suggestPlacement, `hosts[].hostId` of
 * installs.preflight), each judged on its own.
 */
export function targetsOf(method: string, params: unknown): AccessTarget[] {
  if (method.startsWith('access.') || typeof params !== 'object' || params === null) return [];
  const p = params as Record<string, unknown>;
  const listed = Array.isArray(p.hostIds)
    ? p.hostIds
    : Array.isArray(p.hosts)
      ? p.hosts.map((host: unknown) => (host as { hostId?: unknown } | null)?.hostId)
      : [];
  const hostIds = [...new Set(listed.filter((id): id is number => typeof id === 'number'))];
  if (hostIds.length > 0) return hostIds.map((hostId) => ({ hostId }));
  const one = targetOf(method, params);
  return one === null ? [] : [one];
}

/**
 * The resource a method's parameters name, or null for one that names none: a `hostId`
 * (with a `process`, or an `instance`, whose process is its name without the replica
 * number), or an install's `name` (installs.*, with a `host` of it), or the definition's
 * name (installs.start); support.collect names either under `target`, configBundles.export
 * its `install` when it exports one.
 */
export function targetOf(method: string, params: unknown): AccessTarget | null {
  // access.explain's parameters are the question asked, not a resource acted on.
  if (method.startsWith('access.') || typeof params !== 'object' || params === null) return null;
  const p = params as Record<string, unknown>;
  if (method === 'support.collect') return namedTarget(p.target, true);
  return namedTarget(p, method.startsWith('installs.') || isConfigExport(method));
}

/** A configuration export to a path, or web mode's to a download: judged alike. */
function isConfigExport(method: string): boolean {
  return method === 'configBundles.export' || method === 'configBundles.exportDownload';
}

function namedTarget(value: unknown, namesInstall: boolean): AccessTarget | null {
  if (typeof value !== 'object' || value === null) return null;
  const p = value as Record<string, unknown>;
  if (typeof p.hostId === 'number') {
    const process = typeof p.process === 'string' ? p.process : typeof p.instance === 'string' ? processOfInstance(p.instance) : undefined;
    return { hostId: p.hostId, process };
  }
  if (!namesInstall) return null;
  if (typeof p.name === 'string') return { install: p.name, hostName: typeof p.host === 'string' ? p.host : undefined };
  if (typeof p.install === 'string') return { install: p.install };
  const definition = p.install as { name?: unknown } | undefined;
  if (typeof definition?.name === 'string') return { install: definition.name };
  return null;
}

function accessControlOf(config: unknown): unknown {
  return (config as { system_integration?: { security?: { access_control?: unknown } } } | undefined)?.system_integration?.security
    ?.access_control;
}

function environmentOf(config: unknown): string | undefined {
  const environment = (config as { environment?: unknown } | undefined)?.environment;
  return typeof environment === 'string' ? environment : undefined;
}
