import { ApiError, changesState, METHOD_ACTIONS, type MethodName } from '../../contract';
import type { Caller, MethodHandlers } from '../server/dispatcher';
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
 * a role may not make is recorded too). Reads are not recorded.
 */
export function withAudit(handlers: MethodHandlers, deps: AuditDeps): MethodHandlers {
  const wrapped: Record<string, unknown> = { ...handlers };
  for (const method of Object.keys(handlers) as MethodName[]) {
    const action = METHOD_ACTIONS[method];
    if (!changesState(action)) continue;
    const handler = handlers[method] as (params: unknown, caller: Caller) => unknown;
    wrapped[method] = async (params: unknown, caller: Caller) => {
      // Named before the call: a removed host's name goes with it.
      const target = auditTarget(method, params, deps.names);
      const record = (outcome: string) => {
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
      };
      let result: unknown;
      try {
        result = await handler(params, caller);
      } catch (error) {
        record(error instanceof ApiError ? error.code : 'INTERNAL');
        throw error;
      }
      record('ok');
      return result;
    };
  }
  return wrapped as MethodHandlers;
}
