/**
 * The one judge of `access_control: abac` (issue 14, item 3), shared by the runtime (its
 * calls) and the control center (its own actions): plain functions over plain data, no I/O.
 *
 * Under abac the caller's role is checked first, as with rbac (a policy narrows what a role
 * may do, never widens it); then, in this order:
 * 1. the operator's own limits, from their attributes: `installs`, `hostLabels` (the host must
 *    carry every one) and `processes` bound which resources they may act on, `hours` when;
 * 2. a deny rule that matches refuses (deny wins over any allow);
 * 3. an allow rule that matches allows;
 * 4. nothing allows it: refused. A policy is a list of what is allowed; the shipped
 *    config/policies/default.yaml allows every action to every role, so sites add denies
 *    or switch it off and write their own allows.
 */
import type { Role } from '../wire/roles';
import type { Action } from './actions';
import type { PolicyRule, PolicyRuleSpec } from './policy-schema';
import { HOURS_PATTERN } from './policy-schema';

/** What an operator is, as the control center stores it (contract OperatorAttributes). */
export interface SubjectAttributes {
  readonly team?: string | undefined;
  readonly installs?: readonly string[] | undefined;
  readonly hostLabels?: readonly string[] | undefined;
  readonly processes?: readonly string[] | undefined;
  /** `HH:MM-HH:MM` in the control center's time zone. */
  readonly hours?: string | undefined;
}

export interface AccessSubject {
  readonly name: string;
  readonly role: Role;
  readonly attributes: SubjectAttributes;
}

/** What an action is taken on; a field left out is not part of it (an install-wide upgrade names no process). */
export interface AccessResource {
  readonly install?: string | undefined;
  readonly hostName?: string | undefined;
  readonly hostLabels?: readonly string[] | undefined;
  readonly process?: string | undefined;
  readonly environment?: string | undefined;
}

export interface AccessRequest {
  readonly subject: AccessSubject;
  readonly action: Action;
  readonly resource: AccessResource;
  readonly atMs: number;
}

export interface PolicyOptions {
  /** The zone of operators' own `hours` (the control center's); left out: this process's. */
  readonly operatorTimeZone?: string | undefined;
}

/** The rule that decided, by name and where it is written. */
export interface DecidingRule {
  readonly name: string;
  readonly source: string;
}

export type PolicyDecision =
  | { readonly allowed: true; readonly rule: DecidingRule }
  | {
      readonly allowed: false;
      /** The deny rule that refused; null when an operator's own limit did, or nothing allowed it. */
      readonly rule: DecidingRule | null;
      /** Why, as the end of "refused: ...": names the rule or the attribute. */
      readonly reason: string;
    };

export function evaluatePolicy(rules: readonly PolicyRule[], request: AccessRequest, options: PolicyOptions = {}): PolicyDecision {
  const limit = operatorLimit(request, options);
  if (limit !== null) return { allowed: false, rule: null, reason: limit };
  const matching = rules.filter((rule) => rule.spec.enabled && ruleMatches(rule.spec, request));
  const deny = matching.find((rule) => rule.spec.effect === 'deny');
  if (deny) return { allowed: false, rule: decidingRule(deny), reason: `denied by rule "${deny.spec.name}" (${deny.source})` };
  const allow = matching.find((rule) => rule.spec.effect === 'allow');
  if (allow) return { allowed: true, rule: decidingRule(allow) };
  return {
    allowed: false,
    rule: null,
    reason: `no rule of the access policy allows ${request.action} on ${describeResource(request.resource)} for ${request.subject.name}`,
  };
}

/** Whether the rule's actions, operators, resources and hours all select this request. */
export function ruleMatches(rule: PolicyRuleSpec, request: AccessRequest): boolean {
  return (
    (rule.actions === undefined || rule.actions.includes(request.action)) &&
    operatorsMatch(rule, request.subject) &&
    resourcesMatch(rule, request.resource) &&
    (rule.hours === undefined || withinHours(rule.hours, rule.time_zone, request.atMs))
  );
}

export function operatorsMatch(rule: PolicyRuleSpec, subject: AccessSubject): boolean {
  const selector = rule.operators;
  if (selector === undefined) return true;
  if (selector.roles !== undefined && !selector.roles.includes(subject.role)) return false;
  // Operator names compare without case, as everywhere else: a deny naming "Vera" must not miss vera.
  const name = subject.name.toLowerCase();
  if (selector.names !== undefined && !selector.names.some((named) => named.toLowerCase() === name)) return false;
  const wanted = selector.attributes;
  if (wanted === undefined) return true;
  const has = subject.attributes;
  return (
    (wanted.team === undefined || has.team === wanted.team) &&
    (wanted.installs === undefined || (has.installs ?? []).includes(wanted.installs)) &&
    (wanted.host_labels === undefined || (has.hostLabels ?? []).includes(wanted.host_labels)) &&
    (wanted.processes === undefined || (has.processes ?? []).includes(wanted.processes))
  );
}

/** A selector matches only a resource that has the field it selects on. */
export function resourcesMatch(rule: PolicyRuleSpec, resource: AccessResource): boolean {
  const selector = rule.resources;
  if (selector === undefined) return true;
  const among = (values: readonly string[] | undefined, value: string | undefined) =>
    values === undefined || (value !== undefined && values.includes(value));
  return (
    among(selector.installs, resource.install) &&
    among(selector.processes, resource.process) &&
    among(selector.environments, resource.environment) &&
    (selector.host_labels === undefined ||
      (resource.hostLabels !== undefined && selector.host_labels.every((label) => resource.hostLabels!.includes(label))))
  );
}

/** The first of the operator's own limits the request is outside of, as a reason; null when within all. */
function operatorLimit({ subject, resource, atMs }: AccessRequest, options: PolicyOptions): string | null {
  const { installs, hostLabels, processes, hours } = subject.attributes;
  const who = `${subject.name}'s attribute`;
  if (installs !== undefined && resource.install !== undefined && !installs.includes(resource.install))
    return `${who} installs (${installs.join(', ')}) does not include install ${resource.install}`;
  if (hostLabels !== undefined && resource.hostLabels !== undefined) {
    const missing = hostLabels.filter((label) => !resource.hostLabels!.includes(label));
    if (missing.length > 0)
      return `${who} hostLabels (${hostLabels.join(', ')}) selects hosts labelled ${missing.join(', ')}, and ${resource.hostName ?? 'this host'} is not`;
  }
  if (processes !== undefined && resource.process !== undefined && !processes.includes(resource.process))
    return `${who} processes (${processes.join(', ')}) does not include process ${resource.process}`;
  if (hours !== undefined && !withinHours(hours, options.operatorTimeZone, atMs))
    return `${who} hours (${hours}${options.operatorTimeZone ? ` ${options.operatorTimeZone}` : ''}) does not include now`;
  return null;
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** Whether `atMs` falls within `HH:MM-HH:MM` (start included, end not; past midnight wraps) in `timeZone`. */
export function withinHours(window: string, timeZone: string | undefined, atMs: number): boolean {
  const match = HOURS_PATTERN.exec(window);
  if (match === null) return false;
  const [from, to] = [Number(match[1]) * 60 + Number(match[2]), Number(match[3]) * 60 + Number(match[4])];
  const key = timeZone ?? '';
  let format = formats.get(key);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formats.set(key, format);
  }
  const parts = format.formatToParts(atMs);
  const minute =
    Number(parts.find((part) => part.type === 'hour')?.value) * 60 + Number(parts.find((part) => part.type === 'minute')?.value);
  return from <= to ? minute >= from && minute < to : minute >= from || minute < to;
}

export function describeResource(resource: AccessResource): string {
  const parts = [
    resource.process !== undefined ? `process ${resource.process}` : null,
    resource.hostName !== undefined ? `host ${resource.hostName}` : null,
    resource.install !== undefined ? `install ${resource.install}` : null,
  ].filter((part): part is string => part !== null);
  return parts.length > 0 ? parts.join(' on ') : 'this control center';
}

function decidingRule(rule: PolicyRule): DecidingRule {
  return { name: rule.spec.name, source: rule.source };
}
