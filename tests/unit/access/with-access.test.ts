// The role checks as a wrapper around every handler and event source: for every method of
// the contract and every role, a call runs exactly when METHOD_ACTIONS' action is one the
// role may take (LEAST_ROLE); before sign-in only app.info and session.* run; while no
// operator exists every call runs (the bootstrap).
import { describe, expect, it } from 'vitest';
import {
  ApiError,
  EVENT_ACTIONS,
  METHOD_ACTIONS,
  ROLES,
  roleAllows,
  type EventName,
  type MethodName,
  type Role,
} from '../../../electron/contract';
import { withAccess, withEventAccess } from '../../../electron/backend/access/with-access';
import type { Caller, EventSources, MethodHandlers } from '../../../electron/backend/server/dispatcher';

/** A guarded handler or source, called with what the dispatcher would pass. */
type AnyCall = (...args: unknown[]) => unknown;

const methodNames = Object.keys(METHOD_ACTIONS) as MethodName[];
const eventNames = Object.keys(EVENT_ACTIONS) as EventName[];
const OPEN = [
  'app.info',
  'session.signIn',
  'session.signOut',
  // Signing in through the site's provider, before any sign-in by definition.
  'session.provider',
  'session.signInWithProvider',
  'session.completeProviderSignIn',
  'session.completeProviderSecondStep',
  'session.cancelProviderSecondStep',
  'session.whoami',
  // Web mode's forced two-factor set-up at sign-in, before the session starts by definition.
  'session.beginWebEnrolment',
  'session.confirmWebEnrolment',
  'session.cancelWebEnrolment',
];

/** Handlers that record which ran, so a refusal is seen to come before the handler. */
function recording() {
  const ran: string[] = [];
  const handlers = Object.fromEntries(methodNames.map((m) => [m, () => (ran.push(m), 'ran')])) as unknown as MethodHandlers;
  const sources = Object.fromEntries(eventNames.map((e) => [e, () => (ran.push(e), () => {})])) as unknown as EventSources;
  return { ran, handlers, sources };
}

const callerAs = (role: Role | null): Caller =>
  role === null
    ? { actor: 'web:1', peer: 'ws:127.0.0.1:1' }
    : { actor: 'web:1', peer: 'ws:127.0.0.1:1', operator: { id: 7, name: 'vera', role } };

function outcome(run: () => unknown): string {
  try {
    run();
    return 'ran';
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return error.code;
  }
}

describe('withAccess', () => {
  it('runs every method and feed while no operator exists, for a pipe that never signed in', () => {
    const { ran, handlers, sources } = recording();
    const gate = { operatorsExist: () => false };
    const guarded = withAccess(handlers, gate);
    const feeds = withEventAccess(sources, gate);
    for (const method of methodNames) expect(outcome(() => (guarded[method] as AnyCall)({}, callerAs(null)))).toBe('ran');
    for (const event of eventNames) expect(outcome(() => (feeds[event] as AnyCall)({}, () => {}, callerAs(null)))).toBe('ran');
    expect(ran).toEqual([...methodNames, ...eventNames]);
  });

  it('asks a pipe that has not signed in to sign in first, except for app.info and session.*', () => {
    const { ran, handlers, sources } = recording();
    const gate = { operatorsExist: () => true };
    const guarded = withAccess(handlers, gate);
    const feeds = withEventAccess(sources, gate);
    for (const method of methodNames)
      expect([method, outcome(() => (guarded[method] as AnyCall)({}, callerAs(null)))]).toEqual([
        method,
        OPEN.includes(method) ? 'ran' : 'SIGN_IN_REQUIRED',
      ]);
    for (const event of eventNames)
      expect([event, outcome(() => (feeds[event] as AnyCall)({}, () => {}, callerAs(null)))]).toEqual([event, 'SIGN_IN_REQUIRED']);
    expect(ran).toEqual(OPEN);
  });

  it('refuses exactly the methods and feeds whose action the role may not take, with ACCESS_DENIED naming both', () => {
    const gate = { operatorsExist: () => true };
    let refused = 0;
    for (const role of ROLES) {
      const { ran, handlers, sources } = recording();
      const guarded = withAccess(handlers, gate);
      const feeds = withEventAccess(sources, gate);
      for (const method of methodNames) {
        const allowed = OPEN.includes(method) || roleAllows(role, METHOD_ACTIONS[method]);
        const result = outcome(() => (guarded[method] as AnyCall)({}, callerAs(role)));
        expect([role, method, result]).toEqual([role, method, allowed ? 'ran' : 'ACCESS_DENIED']);
        if (!allowed) refused++;
      }
      for (const event of eventNames) {
        const allowed = roleAllows(role, EVENT_ACTIONS[event]);
        expect([role, event, outcome(() => (feeds[event] as AnyCall)({}, () => {}, callerAs(role)))]).toEqual([
          role,
          event,
          allowed ? 'ran' : 'ACCESS_DENIED',
        ]);
      }
      expect(ran.length).toBeLessThanOrEqual(methodNames.length + eventNames.length);
    }
    // The table refuses something to a viewer and an operator, and nothing to an admin.
    expect(refused).toBeGreaterThan(0);
    const admin = withAccess(recording().handlers, gate);
    for (const method of methodNames) expect(outcome(() => (admin[method] as AnyCall)({}, callerAs('admin')))).toBe('ran');
  });

  it('says who, which role, what it may not do, and what to do about it', () => {
    const guarded = withAccess(recording().handlers, { operatorsExist: () => true });
    let error: ApiError | undefined;
    try {
      (guarded['fleet.restart'] as AnyCall)({}, callerAs('viewer'));
    } catch (caught) {
      error = caught as ApiError;
    }
    expect(error?.toBody()).toEqual({
      code: 'ACCESS_DENIED',
      message: 'vera is a viewer, and a viewer may not start, stop or restart processes (fleet.restart).',
      remedy: 'Ask an admin to do it, or to give you a role that may.',
    });
    let operatorError: ApiError | undefined;
    try {
      (guarded['operators.add'] as AnyCall)({}, callerAs('operator'));
    } catch (caught) {
      operatorError = caught as ApiError;
    }
    expect(operatorError?.message).toBe('vera is an operator, and an operator may not manage operators (operators.add).');
  });
});
