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
import { ApiError, type Action, type OperatorAttributes, type Role } from '../../contract';
import type { AccessPolicy } from './access-policy';

/** What a call names: a host (and on it a process), or an install. */
export interface AccessTarget {
  readonly hostId?: number | undefined;
  readonly install?: string | undefined;
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

/** A decision on a resource, with whether the policy took part (abac) or the role alone did (rbac). */
export type TargetDecision = PolicyDecision & { readonly policy: boolean; readonly resource: AccessResource };

export interface PolicyGate {
  /** The policy's decision on `action` over `target` for the operator; null when the target's install uses rbac (roles alone). */
  decide(operator: { name: string; role: Role }, action: Action, target: AccessTarget): TargetDecision | null;
  /** Throws ACCESS_POLICY_DENIED when the policy refuses. */
  check(operator: { name: string; role: Role }, action: Action, target: AccessTarget): void;
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
  const resourceOf = (target: AccessTarget): { resource: AccessResource; abac: boolean } | null => {
    if (target.hostId !== undefined) {
      const host = facts.host(target.hostId);
      const install = facts.installOfHost(target.hostId);
      if (host === null || install === null) return null;
      const config = facts.installHostConfigs(install).find((entry) => entry.hostId === target.hostId)?.config;
      return {
        abac: accessControlOf(config) === 'abac',
        resource: { install, hostName: host.name, hostLabels: host.labels, process: target.process, environment: environmentOf(config) },
      };
    }
    if (target.install === undefined) return null;
    const configs = facts.installHostConfigs(target.install).map((entry) => entry.config);
    if (configs.length === 0) return null;
    const environments = [...new Set(configs.map(environmentOf))];
    return {
      // Strictest wins: a host override that turned abac on for one host puts the install-wide actions under the policy.
      abac: configs.some((config) => accessControlOf(config) === 'abac'),
      resource: { install: target.install, environment: environments.length === 1 ? environments[0] : undefined },
    };
  };
  const gate: PolicyGate = {
    decide(operator, action, target) {
      const found = resourceOf(target);
      if (found === null || !found.abac) return null;
      const subject: AccessSubject = { name: operator.name, role: operator.role, attributes: facts.operatorAttributes(operator.name) };
      const decision = evaluatePolicy(
        policy.current().rules,
        { subject, action, resource: found.resource, atMs: now() },
        { operatorTimeZone: timeZone },
      );
      return { ...decision, policy: true, resource: found.resource };
    },
    pushedPolicy(hostId) {
      const found = resourceOf({ hostId });
      if (found === null || !found.abac) return '';
      const { install, hostName, hostLabels, environment } = found.resource;
      const target = { install, host_name: hostName, host_labels: [...(hostLabels ?? [])], environment, operator_time_zone: timeZone };
      const rules = policy.current().rules.map(({ spec, source }) => ({ ...spec, source }));
      return stringify({ target, rules });
    },
    check(operator, action, target) {
      const decision = gate.decide(operator, action, target);
      if (decision === null || decision.allowed) return;
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

/**
 * The resource a method's parameters name, or null for one that names none: a `hostId`
 * (with a `process`, or an `instance`, whose process is its name without the replica
 * number), or an install's `name` (installs.*), or the definition's name (installs.start).
 */
export function targetOf(method: string, params: unknown): AccessTarget | null {
  // access.explain's parameters are the question asked, not a resource acted on.
  if (method.startsWith('access.') || typeof params !== 'object' || params === null) return null;
  const p = params as Record<string, unknown>;
  if (typeof p.hostId === 'number') {
    const process = typeof p.process === 'string' ? p.process : typeof p.instance === 'string' ? processOfInstance(p.instance) : undefined;
    return { hostId: p.hostId, process };
  }
  if (!method.startsWith('installs.')) return null;
  if (typeof p.name === 'string') return { install: p.name };
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
