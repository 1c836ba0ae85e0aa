import { ApiError, METHOD_ACTIONS, type Action, type MethodName } from '../../contract';
import type { Caller, MethodHandlers, PipeSession } from '../server/dispatcher';
import type { OperatorMfa } from './operator-mfa';

/**
 * The admin actions that ask for a fresh code when step-up is on (issue 14, item 4: install,
 * upgrade, uninstall, trust a changed host key, manage operators). A rollback too: it changes
 * what is installed as an upgrade does (back to a release that may be the vulnerable one).
 */
export const STEP_UP_ACTIONS: ReadonlySet<Action> = new Set<Action>([
  'install',
  'upgrade',
  'rollback',
  'uninstall',
  'trust-key',
  'manage-operators',
]);

/** How long a code typed on a pipe lets that pipe take admin actions. */
export const STEP_UP_MS = 5 * 60_000;

/**
 * When each pipe last proved a code, for the operator it proved it for: a sign-out, or
 * another operator signing in on the pipe, does not inherit it. Kept beside the pipe's
 * session (a WeakMap: a closed pipe's entry goes with it), never in the database.
 *
 * A browser's web session (web mode for a team) keeps it for the session instead
 * (PipeSession.stepUpUntil, in memory): the code typed on the sign-in page counts for
 * STEP_UP_MS from then on the sockets the page opens with that cookie, as a code typed at
 * session.signIn counts on its pipe; a step-up in one tab counts in the session's others.
 */
export interface StepUps {
  /** The pipe's operator typed a valid code just now (sign-in with a code, or session.stepUp). */
  mark(session: PipeSession | undefined, operatorId: number): number;
  /** Until when `caller`'s pipe may take admin actions without a new code, or null. */
  until(caller: Caller): number | null;
  /** Throws MFA_STEP_UP_REQUIRED when step-up is on and `caller` has no fresh code (no-op without an operator: the bootstrap). */
  require(caller: Caller, what: string): void;
}

export function createStepUps(deps: { mfa: OperatorMfa; now: () => number }): StepUps {
  const { mfa, now } = deps;
  const marks = new WeakMap<PipeSession, { operatorId: number; until: number }>();

  const until = (caller: Caller): number | null => {
    const at = now();
    const mark = caller.session && marks.get(caller.session);
    const own = mark && mark.operatorId === caller.operator?.id && mark.until > at ? mark.until : null;
    // A web session's operator never changes (signing in again makes a new session): no operator to compare.
    const shared = caller.operator !== undefined ? caller.session?.stepUpUntil : undefined;
    const sharedLive = shared !== undefined && shared > at ? shared : null;
    return own === null ? sharedLive : sharedLive === null ? own : Math.max(own, sharedLive);
  };

  return {
    mark(session, operatorId) {
      const end = now() + STEP_UP_MS;
      if (session) {
        marks.set(session, { operatorId, until: end });
        session.markStepUp?.(end);
      }
      return end;
    },
    until,
    require(caller, what) {
      const operator = caller.operator;
      if (!operator || !mfa.stepUpRequired() || until(caller) !== null) return;
      if (!mfa.enrolled(operator.id))
        throw new ApiError(
          'MFA_STEP_UP_REQUIRED',
          `Admin actions need a fresh two-factor code here, and ${operator.name} has no two-factor sign-in (${what}).`,
          'Set up two-factor sign-in under My account on the Operators page, then confirm with a code.',
          {
            cliRemedy: `Enrol with \`sutazai operators mfa enrol ${operator.name} --as ${operator.name}\`, then add --code to the command.`,
          },
        );
      throw new ApiError(
        'MFA_STEP_UP_REQUIRED',
        `Admin actions need a two-factor code typed within the last ${STEP_UP_MS / 60_000} minutes (${what}).`,
        'Type the code your authenticator app shows when asked, then try again.',
        {
          cliRemedy: 'Add --code to the command: the code is asked for after the password (or read from the next line of standard input).',
        },
      );
    },
  };
}

/**
 * Wraps the handlers whose action is in STEP_UP_ACTIONS with the step-up check. Inside the
 * role checks (withAccess), so a role that may not act at all hears ACCESS_DENIED, not a
 * request for a code that would not help.
 */
export function withStepUp(handlers: MethodHandlers, stepUps: StepUps): MethodHandlers {
  const wrapped: Record<string, unknown> = { ...handlers };
  for (const method of Object.keys(handlers) as MethodName[]) {
    if (!STEP_UP_ACTIONS.has(METHOD_ACTIONS[method])) continue;
    const handler = handlers[method] as (params: unknown, caller: Caller) => unknown;
    wrapped[method] = (params: unknown, caller: Caller) => {
      stepUps.require(caller, method);
      return handler(params, caller);
    };
  }
  return wrapped as MethodHandlers;
}
