/**
 * `access_control: abac` in the runtime (issue 14, item 3): each call made for an operator is
 * judged by the policy the control center pushed (SetAccessState's abac_policy_yaml), with
 * the same evaluator as the control center's. The pushed text carries, besides the rules,
 * `target:` (this host's install, labels and environment, which the runtime does not know
 * itself). An empty text is rbac: roles alone.
 */
import { RuntimeError } from '../runtime-error';
import type { Role } from '../wire/roles';
import type { Action } from './actions';
import { evaluatePolicy, type PolicyDecision, type SubjectAttributes } from './evaluate-policy';
import { parsePolicy, type ParsedPolicy } from './parse-policy';

/** The action of each runtime method, in the policy's words; null: the control center's own (SetAccessState), judged by role alone. */
export const RUNTIME_METHOD_ACTIONS: Readonly<Record<string, Action | null>> = {
  GetInfo: 'view',
  ListProcesses: 'view',
  WatchEvents: 'view',
  StreamMetrics: 'view',
  TailLogs: 'logs',
  StartProcess: 'control',
  StopProcess: 'control',
  RestartProcess: 'control',
  ScaleProcess: 'scale',
  UpdateManifest: 'manifest',
  SetAccessState: null,
};

/** `agent-2` -> `agent`; an instance of one replica runs under its process's own name (`core`). */
export function processOfInstance(instance: string): string {
  return instance.replace(/-\d+$/, '');
}

export interface RuntimeCall {
  /** The pushed policy text; empty: rbac. */
  readonly policyYaml: string;
  /**
   * The operator the call is made for, with the role the call has and their pushed attributes
   * (the control center's OperatorAttributes as JSON); null: not an operator (the control
   * center's own calls).
   */
  readonly operator: { readonly name: string; readonly role: Role; readonly attributes: Readonly<Record<string, unknown>> } | null;
  /** The method's name (`RestartProcess`). */
  readonly method: string;
  /** The request message: `name` (a process) or `instance` name what it acts on. */
  readonly request: unknown;
  readonly atMs: number;
}

export interface RuntimePolicy {
  /** The policy's decision on the call; null when no policy applies (rbac, no operator, a method of the control center's own). */
  judge(call: RuntimeCall): PolicyDecision | null;
  /** Throws ACCESS_POLICY_DENIED (PERMISSION_DENIED on the wire) when the policy refuses the call. */
  check(call: RuntimeCall): void;
  /** Problems of the pushed text (file:line:column in "pushed policy"), for the log. */
  problems(policyYaml: string): ParsedPolicy['errors'];
  /**
   * Why the policy cannot judge the call (a control center policy file that did not load, or
   * a pushed text with an error), or null: the call is refused then, never judged by the rest.
   */
  brokenBy(call: Pick<RuntimeCall, 'policyYaml' | 'operator' | 'method'>): string | null;
}

/** Parses each pushed text once (a push replaces it; calls between pushes reuse it). */
export function createRuntimePolicy(): RuntimePolicy {
  let parsedFor: string | undefined;
  let parsed: ParsedPolicy = { rules: [], errors: [] };
  const parse = (text: string): ParsedPolicy => {
    if (text !== parsedFor) {
      parsed = parsePolicy(text, 'pushed policy', { allowTarget: true });
      parsedFor = text;
    }
    return parsed;
  };
  const policy: RuntimePolicy = {
    judge({ policyYaml, operator, method, request, atMs }) {
      const action = RUNTIME_METHOD_ACTIONS[method];
      if (policyYaml.trim() === '' || operator === null || action === null || action === undefined) return null;
      const { rules, target } = parse(policyYaml);
      const fields = (typeof request === 'object' && request !== null ? request : {}) as { name?: unknown; instance?: unknown };
      const process =
        typeof fields.name === 'string' && fields.name !== ''
          ? fields.name
          : typeof fields.instance === 'string' && fields.instance !== ''
            ? processOfInstance(fields.instance)
            : undefined;
      return evaluatePolicy(
        rules,
        {
          subject: { name: operator.name, role: operator.role, attributes: subjectAttributes(operator.attributes) },
          action,
          resource: {
            install: target?.install,
            hostName: target?.host_name,
            hostLabels: target?.host_labels ?? [],
            environment: target?.environment,
            process,
          },
          atMs,
        },
        { operatorTimeZone: target?.operator_time_zone },
      );
    },
    check(call) {
      const broken = policy.brokenBy(call);
      if (broken !== null)
        throw new RuntimeError(
          'ACCESS_POLICY_INVALID',
          `${call.method} for ${call.operator?.name ?? 'this caller'} is refused: the access policy does not load (${broken}), so every call it judges is refused until it is fixed`,
          'ask an admin to fix that policy file in the control center (`sutazai policy` shows every problem); the control center pushes the fixed policy to this runtime',
        );
      const decision = policy.judge(call);
      if (decision === null || decision.allowed) return;
      throw new RuntimeError(
        'ACCESS_POLICY_DENIED',
        `${call.method} for ${call.operator?.name ?? 'this caller'} is refused by the access policy: ${decision.reason}`,
        decision.rule
          ? `ask an admin to change the rule "${decision.rule.name}" (${decision.rule.source}) in the control center's access policy`
          : "ask an admin to allow it in the control center's access policy, or to change the operator's attributes",
      );
    },
    problems: (policyYaml) => parse(policyYaml).errors,
    brokenBy({ policyYaml, operator, method }) {
      const action = RUNTIME_METHOD_ACTIONS[method];
      if (policyYaml.trim() === '' || operator === null || action === null || action === undefined) return null;
      const { errors, invalid } = parse(policyYaml);
      // The control center's files that did not load, or a pushed text this runtime cannot read itself.
      return invalid?.[0] ?? errors[0]?.message ?? null;
    },
  };
  return policy;
}

/** The attributes a policy reads, from the pushed JSON object; anything else in it is ignored. */
export function subjectAttributes(json: Readonly<Record<string, unknown>>): SubjectAttributes {
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const list = (value: unknown) => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : undefined);
  return {
    team: text(json.team),
    installs: list(json.installs),
    hostLabels: list(json.hostLabels),
    processes: list(json.processes),
    hours: text(json.hours),
  };
}
