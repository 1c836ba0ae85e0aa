import {
  ApiError,
  changesState,
  EVENT_ACTIONS,
  METHOD_ACTIONS,
  type Action,
  type ErrorCode,
  type EventName,
  type MethodName,
} from '../../contract';
import type { Caller, EventSources, MethodHandlers } from '../server/dispatcher';
import type { AuditLog } from './audit-log';
import { auditTarget, type TargetNames } from './audit-target';

export interface AuditDeps {
  log: Pick<AuditLog, 'append'>;
  names: TargetNames;
  now: () => number;
  logger: { error(details: object, message: string): void };
}

/**
 * The handlers, each method whose action changes state (method-actions.ts) appending one
 * entry to the audit log when it ends: who called, from where, what it named, and `ok` or
 * the error code it failed with (refusals included: this wraps the access checks, so a call
 * a role may not make is recorded too). Reads are recorded only when a signed-in operator
 * is refused one (ACCESS_DENIED, ACCESS_POLICY_DENIED: the role or a policy said no); a pipe
 * that has not signed in yet is refused reads as every window is before its sign-in screen,
 * which is not news.
 */
export function withAudit(handlers: MethodHandlers, deps: AuditDeps): MethodHandlers {
  const wrapped: Record<string, unknown> = { ...handlers };
  for (const method of Object.keys(handlers) as MethodName[]) {
    const action = METHOD_ACTIONS[method];
    const recordsAll = changesState(action);
    const handler = handlers[method] as (params: unknown, caller: Caller) => unknown;
    wrapped[method] = async (params: unknown, caller: Caller) => {
      // Named before the call: a removed host's name goes with it.
      const target = auditTarget(method, params, deps.names);
      let result: unknown;
      try {
        result = await handler(params, caller);
      } catch (error) {
        const outcome = error instanceof ApiError ? error.code : 'INTERNAL';
        // A refusal may name what it refused better than the params did (a provider sign-in: who the provider said).
        const refused = auditTargetOf(error) ?? target;
        if (recordsAll || READ_REFUSALS.has(outcome)) record(deps, { method, action, target: refused, caller, outcome });
        throw error;
      }
      if (recordsAll) {
        // A handler may name what it did better than the params did (a forced enrolment: whose, and which step).
        const done = auditTargetOf(result) ?? withRelease(target, result) ?? signedInAs(action, result);
        record(deps, { method, action, target: done, caller, outcome: 'ok' });
      }
      return result;
    };
  }
  return wrapped as MethodHandlers;
}

/**
 * Who a sign-in that named no one in its params signed in as (a provider's sign-in: the name
 * is known only from the verified ID token), from the session it answers; null otherwise.
 */
/**
 * The target a handler attached to its refusal or its answer (withAuditTarget), for a call
 * whose params do not name it: a provider sign-in's claimed name and provider account, known
 * only from the ID token; a forced enrolment's operator, known only from its ticket. A symbol,
 * not enumerable: it never goes out with the answer.
 */
const AUDIT_TARGET = Symbol('audit target');

export function withAuditTarget<E>(error: E, target: string): E {
  if (typeof error === 'object' && error !== null) Object.defineProperty(error, AUDIT_TARGET, { value: target });
  return error;
}

function auditTargetOf(error: unknown): string | undefined {
  const target = typeof error === 'object' && error !== null ? (error as { [AUDIT_TARGET]?: unknown })[AUDIT_TARGET] : undefined;
  return typeof target === 'string' ? target : undefined;
}

function signedInAs(action: Action, result: unknown): string | null {
  if (action !== 'sign-in' || typeof result !== 'object' || result === null) return null;
  const operator = (result as { operator?: { name?: unknown } | null }).operator;
  if (typeof operator?.name === 'string') return `operator ${operator.name}`;
  // A provider sign-in that waits for the operator's two-factor code (provider-second-step.ts): not signed in yet.
  const waiting = (result as { secondStep?: { operator?: unknown } }).secondStep?.operator;
  return typeof waiting === 'string' ? `operator ${waiting}, two-factor code asked` : null;
}

/**
 * A bundle import's target with the release it imported (`name@version`, known only from the
 * result when the call named an upload, not a release).
 */
function withRelease(target: string | null, result: unknown): string | null {
  if (typeof result !== 'object' || result === null) return target;
  const bundle = (result as { bundle?: { name?: unknown; version?: unknown } }).bundle;
  if (typeof bundle?.name !== 'string' || typeof bundle.version !== 'string') return target;
  const release = `release ${bundle.name}@${bundle.version}`;
  return target === null ? release : target.includes(release) ? target : `${target}, ${release}`;
}

/** The refusals of a signed-in operator's read: by the role, or by an access policy. */
const READ_REFUSALS: ReadonlySet<string> = new Set<ErrorCode>(['ACCESS_DENIED', 'ACCESS_POLICY_DENIED', 'ACCESS_POLICY_INVALID']);

/**
 * The event sources, a feed a signed-in operator is refused (either code above, when it starts)
 * recorded as a refused read is: a log follow the operator's role or policy does not allow.
 */
export function withEventAudit(sources: EventSources, deps: AuditDeps): EventSources {
  return Object.fromEntries(
    (Object.keys(sources) as EventName[]).map((event) => {
      const source = sources[event] as (params: unknown, emit: (payload: unknown) => void, caller: Caller) => () => void;
      return [
        event,
        (params: unknown, emit: (payload: unknown) => void, caller: Caller) => {
          try {
            return source(params, emit, caller);
          } catch (error) {
            if (error instanceof ApiError && READ_REFUSALS.has(error.code))
              record(deps, {
                method: event,
                action: EVENT_ACTIONS[event],
                target: auditTarget(event, params, deps.names),
                caller,
                outcome: error.code,
              });
            throw error;
          }
        },
      ];
    }),
  ) as EventSources;
}

/**
 * A call the dispatcher refused before any handler ran (METHOD_NOT_ON_THIS_PIPE), recorded as a
 * handler's refusal is: who, from where, what it named, and the code.
 */
export function recordDispatcherRefusal(deps: AuditDeps, method: MethodName, params: unknown, caller: Caller, outcome: ErrorCode): void {
  record(deps, { method, action: METHOD_ACTIONS[method], target: auditTarget(method, params, deps.names), caller, outcome });
}

function record(deps: AuditDeps, call: { method: string; action: Action; target: string | null; caller: Caller; outcome: string }): void {
  const { method, action, target, caller, outcome } = call;
  try {
    deps.log.append({
      atMs: deps.now(),
      operator: caller.operator?.name ?? null,
      actor: caller.actor,
      peer: caller.peer,
      action,
      method,
      target,
      outcome,
    });
  } catch (error) {
    // The call has happened; failing it now would tell the caller it did not.
    deps.logger.error({ err: error, method, actor: caller.actor, target, outcome }, 'audit entry could not be appended');
  }
}
