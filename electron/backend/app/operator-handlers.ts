import { ApiError, type Operator } from '../../contract';
import { checkAccess, type AccessGate } from '../access/with-access';
import type { OperatorMfa } from '../operators/operator-mfa';
import { wrongCode } from '../operators/operator-mfa';
import { signInFailed, type OperatorService } from '../operators/operator-service';
import type { Attempt, SignInLimiter } from '../operators/sign-in-limiter';
import type { StepUps } from '../operators/step-up';
import type { WebSessions } from '../operators/web-sessions';
import type { Caller, MethodHandlers } from '../server/dispatcher';
import type { WebEnrolments } from './web-enrolment';
import { askWebEnrolment } from './web-enrolment-handlers';

export interface OperatorApiDeps {
  operators: OperatorService;
  mfa: OperatorMfa;
  stepUps: StepUps;
  signInLimiter: SignInLimiter;
  webSessions: WebSessions;
  webEnrolments: WebEnrolments;
}

/** Whose tries a call counts against: the name as typed and the pipe's source (`local` for the app and the CLI). */
function attemptOf(name: string, caller: Caller): Attempt {
  return { name, address: caller.address ?? 'local' };
}

type OperatorMethod =
  | 'operators.list'
  | 'operators.add'
  | 'operators.set'
  | 'operators.remove'
  | 'session.signIn'
  | 'session.signOut'
  | 'session.whoami'
  | 'sessions.list'
  | 'sessions.revoke'
  | 'session.stepUp'
  | 'mfa.status'
  | 'mfa.enrolBegin'
  | 'mfa.enrolConfirm'
  | 'mfa.reset'
  | 'mfa.setStepUp';

/** Operators, each pipe's sign-in and two-factor sign-in (issue 14, items 1 and 4); who may call which is with-access.ts's. */
export function createOperatorHandlers({
  operators,
  mfa,
  stepUps,
  signInLimiter,
  webSessions,
  webEnrolments,
}: OperatorApiDeps): Pick<MethodHandlers, OperatorMethod> {
  const gate: AccessGate = { operatorsExist: () => operators.exist() };

  /** Whose two-factor sign-in a call changes: the pipe's own operator, or another one named (an admin's action, stepped up). */
  const enrollee = (caller: Caller, name: string | undefined, method: string): Operator => {
    const self = caller.operator;
    if (name === undefined || (self && self.name.toLowerCase() === name.toLowerCase())) {
      if (!self)
        throw new ApiError(
          'OPERATOR_NOT_FOUND',
          'This window acts as no operator, and two-factor sign-in belongs to one.',
          'Add an operator on the Operators page and sign in as it first.',
          { cliRemedy: 'Name the operator (`sutazai operators mfa enrol NAME`), or add one with `sutazai operators add`.' },
        );
      return operators.named(self.name);
    }
    checkAccess(gate, caller, 'manage-operators', method);
    stepUps.require(caller, method);
    return operators.named(name);
  };

  return {
    'operators.list': () =>
      operators
        .list()
        .map((operator) => ({ ...operator, twoFactor: mfa.enrolled(operator.id), passwordSet: operators.passwordSet(operator.id) })),
    'operators.add': async (input, caller) => {
      const first = !operators.exist();
      const added = await operators.add(input);
      // Whoever adds the first operator acted as the bootstrap's admin: it goes on as that admin instead of being locked out.
      if (first) caller.session?.signIn(added.id);
      return added;
    },
    'operators.set': ({ name, ...update }) => operators.set(name, update),
    'operators.remove': ({ name }) => operators.remove(name),
    'session.signIn': async ({ name, password, code }, caller) => {
      if (caller.session?.webSessionId !== undefined)
        throw new ApiError(
          'METHOD_NOT_ON_THIS_PIPE',
          'This browser signed in through the sign-in page of web mode; its connection cannot sign in as another operator.',
          'Sign out, then sign in on the sign-in page.',
        );
      const attempt = attemptOf(name, caller);
      // Counted before the password is looked at (sign-in-limiter.ts); throttled, the answer says nothing of the password.
      signInLimiter.begin(attempt);
      const operator = await operators.verify(name, password);
      if (mfa.enrolled(operator.id)) {
        if (code === undefined) {
          signInLimiter.refund(attempt);
          throw new ApiError(
            'MFA_REQUIRED',
            `${operator.name} signs in with a two-factor code too.`,
            'Type the code your authenticator app shows (or one of your recovery codes).',
            {
              cliRemedy: 'Add --code: the code is asked for after the password (or read from the next line of standard input).',
            },
          );
        }
        // The same answer as a wrong password, so a wrong code says nothing more. (MFA_REQUIRED above does confirm the
        // password: the price of asking for the code as a second step; the limiter counts each wrong code against the name.)
        if (!mfa.check(operator.id, code)) throw signInFailed();
        caller.session?.signIn(operator.id);
        stepUps.mark(caller.session, operator.id);
      } else {
        // Web mode for a team requires two-factor sign-in (mfa.setWebRequired): enrol first, sign in after.
        const enrolment = caller.session?.teamSignInPage ? askWebEnrolment({ mfa, webEnrolments }, operator) : null;
        if (enrolment !== null) {
          // The password was right, and no session starts yet: the try no longer counts; the first codes count against the name.
          signInLimiter.refund(attempt);
          return enrolment;
        }
        caller.session?.signIn(operator.id);
      }
      signInLimiter.succeeded(attempt);
      return operators.sessionOf(operator.id);
    },
    'sessions.list': ({ all }, caller) => {
      const self = caller.operator;
      if (all) checkAccess(gate, caller, 'manage-operators', 'sessions.list');
      const current = currentWebSession(caller);
      const listed = all ? webSessions.list() : self ? webSessions.list(self.id) : [];
      return listed.map(({ operatorId: _operatorId, operatorName, ...session }) => ({
        ...session,
        operator: operatorName,
        current: session.id === current,
      }));
    },
    'sessions.revoke': ({ id }, caller) => {
      const own = caller.operator !== undefined && webSessions.list(caller.operator.id).some((session) => session.id === id);
      if (!own) checkAccess(gate, caller, 'manage-operators', 'sessions.revoke');
      if (!webSessions.end(id, own ? 'revoked by its operator' : `revoked by ${caller.operator?.name ?? caller.actor}`))
        throw new ApiError(
          'WEB_SESSION_ENDED',
          `There is no live web session ${id}: it ended already, or never was.`,
          'Reload the list of sessions; an ended session needs no revoking.',
        );
      return { revoked: id };
    },
    'session.signOut': (_params, caller) => {
      caller.session?.signOut();
      return operators.sessionOf(undefined);
    },
    'session.whoami': (_params, caller) => operators.sessionOf(caller.operator?.id),
    'session.stepUp': ({ code }, caller) => {
      const operator = enrollee(caller, undefined, 'session.stepUp');
      // Code guesses on a signed-in pipe count like those at sign-in: a stolen session may not guess its way to admin actions.
      const attempt = attemptOf(operator.name, caller);
      signInLimiter.begin(attempt);
      if (!mfa.check(operator.id, code)) throw wrongCode();
      signInLimiter.succeeded(attempt);
      return { until: stepUps.mark(caller.session, operator.id) };
    },
    'mfa.status': (_params, caller) => {
      const state = caller.operator ? mfa.state(caller.operator.id) : { enrolled: false, pending: false, recoveryCodesLeft: 0 };
      return { ...state, stepUpRequired: mfa.stepUpRequired(), stepUpUntil: stepUps.until(caller), webRequired: mfa.webRequired() };
    },
    'mfa.enrolBegin': ({ name }, caller) => {
      const operator = enrollee(caller, name, 'mfa.enrolBegin');
      return { name: operator.name, ...mfa.begin(operator) };
    },
    'mfa.enrolConfirm': ({ name, code }, caller) => {
      const operator = enrollee(caller, name, 'mfa.enrolConfirm');
      return { name: operator.name, ...mfa.confirm(operator.id, code) };
    },
    'mfa.reset': ({ name }) => {
      const operator = operators.named(name);
      mfa.reset(operator.id);
      return { name: operator.name };
    },
    'mfa.setStepUp': ({ required }, caller) => {
      // Turned on by an admin who could not then step up, it would lock every admin action out.
      const self = caller.operator;
      if (required && !(self && mfa.enrolled(self.id)))
        throw new ApiError(
          'MFA_NOT_ENROLLED',
          `${self?.name ?? 'This window'} has no two-factor sign-in, and with step-up on could take no admin action.`,
          'Sign in as an operator and set up two-factor sign-in under My account first, then turn step-up on.',
          { cliRemedy: 'Enrol first (`sutazai operators mfa enrol NAME --as NAME`), then turn step-up on with --as NAME --code.' },
        );
      mfa.setStepUpRequired(required);
      return { required };
    },
  };
}

/** The web session a pipe acts through (web mode for a team), or null. */
function currentWebSession(caller: Caller): number | null {
  return caller.session?.webSessionId ?? null;
}
