import {
  ApiError,
  EVENT_ACTIONS,
  METHOD_ACTIONS,
  roleAllows,
  roleRefusal,
  type Action,
  type EventName,
  type MethodName,
  type Role,
} from '../../contract';
import type { Caller, EventSources, MethodHandlers } from '../server/dispatcher';
import type { PolicyGate } from './policy-gate';

/** What a pipe may call before it signs in: who it is, and signing in itself. */
const OPEN_METHODS: ReadonlySet<MethodName> = new Set<MethodName>([
  'app.info',
  'session.signIn',
  'session.signOut',
  'session.whoami',
  'session.provider',
  'session.signInWithProvider',
  'session.completeProviderSignIn',
  'session.completeProviderSecondStep',
  'session.cancelProviderSecondStep',
  'session.beginWebEnrolment',
  'session.confirmWebEnrolment',
  'session.cancelWebEnrolment',
]);

export interface AccessGate {
  /** Whether any operator exists; while none does, every pipe acts as the one admin (the bootstrap). */
  operatorsExist(): boolean;
  /** `access_control: abac`: after the role, calls naming a host, process or install of an abac install are judged by the policy. */
  policy?: PolicyGate;
}

/**
 * Role checks (issue 14; issue 12's viewer role) as a wrapper around every handler and
 * event source: a call whose action (METHOD_ACTIONS, EVENT_ACTIONS) the caller's role does
 * not allow is refused with ACCESS_DENIED before the handler runs; a pipe that has not
 * signed in while operators exist gets SIGN_IN_REQUIRED. The handlers themselves stay as
 * they were: whatever else wraps them (the audit log) sees the refusal as an ApiError.
 */
export function withAccess(handlers: MethodHandlers, gate: AccessGate): MethodHandlers {
  return Object.fromEntries(
    (Object.keys(handlers) as MethodName[]).map((method) => {
      const handler = handlers[method] as (params: unknown, caller: Caller) => unknown;
      if (OPEN_METHODS.has(method)) return [method, handler];
      const action = METHOD_ACTIONS[method];
      return [
        method,
        (params: unknown, caller: Caller) => {
          checkAccess(gate, caller, action, method);
          checkPolicy(gate, caller, action, method, params);
          return handler(params, caller);
        },
      ];
    }),
  ) as MethodHandlers;
}

/**
 * The same for subscriptions: checked when a feed starts, with EVENT_ACTIONS. An open feed is
 * checked again by the dispatcher (checkEventAccess, recheck-subscriptions.ts), so one whose
 * operator was disabled, removed or given a role that may not receive it ends.
 */
export function withEventAccess(sources: EventSources, gate: AccessGate): EventSources {
  return Object.fromEntries(
    (Object.keys(sources) as EventName[]).map((event) => {
      const source = sources[event] as (params: unknown, emit: (payload: unknown) => void, caller: Caller) => () => void;
      return [
        event,
        (params: unknown, emit: (payload: unknown) => void, caller: Caller) => {
          checkEventAccess(gate, caller, event);
          checkPolicy(gate, caller, EVENT_ACTIONS[event], event, params);
          return source(params, emit, caller);
        },
      ];
    }),
  ) as EventSources;
}

/**
 * Throws SIGN_IN_REQUIRED or ACCESS_DENIED when `caller` may not receive `event`, and with the
 * feed's parameters (an open feed checked again) the policy's refusal of what they name: a
 * policy changed, or a host relabelled, since the feed started.
 */
export function checkEventAccess(gate: AccessGate, caller: Caller, event: EventName, params?: unknown): void {
  checkAccess(gate, caller, EVENT_ACTIONS[event], event);
  if (params !== undefined) checkPolicy(gate, caller, EVENT_ACTIONS[event], event, params);
}

/**
 * Throws ACCESS_POLICY_DENIED when a resource `params` name is under an abac policy that
 * refuses the caller's operator (each one, for a call naming several hosts or installs), and
 * ACCESS_POLICY_INVALID while that policy does not load.
 */
export function checkPolicy(gate: AccessGate, caller: Caller, action: Action, what: string, params: unknown): void {
  if (gate.policy === undefined || caller.operator === undefined) return;
  for (const target of gate.policy.targets(what, params)) gate.policy.check(caller.operator, action, target);
}

/** Throws SIGN_IN_REQUIRED or ACCESS_DENIED when `caller` may not take `action` (through `what`, a method or event). */
export function checkAccess(gate: AccessGate, caller: Caller, action: Action, what: string): void {
  const role = effectiveRole(gate, caller);
  if (role === null)
    throw new ApiError(
      'SIGN_IN_REQUIRED',
      `Sign in as an operator before ${what}: this control center has operators.`,
      'Sign in with your operator name and password.',
      { cliRemedy: 'Add --as NAME (your operator name); the password is asked for, or read from standard input.' },
    );
  if (!roleAllows(role, action))
    throw new ApiError(
      'ACCESS_DENIED',
      `${caller.operator?.name ?? 'This operator'} is ${roleRefusal(role, action)} (${what}).`,
      'Ask an admin to do it, or to give you a role that may.',
    );
}

/** The role `caller` acts with: admin while no operator exists, the signed-in operator's, or null (must sign in). */
export function effectiveRole(gate: AccessGate, caller: Caller): Role | null {
  if (caller.operator) return caller.operator.role;
  // A browser beyond loopback is never the bootstrap's admin: its sign-in ended means it is no one.
  if (caller.session?.webSessionId !== undefined) return null;
  return gate.operatorsExist() ? null : 'admin';
}
