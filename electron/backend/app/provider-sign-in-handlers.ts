import { createHash, randomBytes } from 'node:crypto';
import { ApiError, type Operator, type Session } from '../../contract';
import { withAuditTarget } from '../audit/with-audit';
import { startLoopbackSignIn, type LoopbackSignIn } from '../oidc/oidc-loopback';
import type { ProviderIdentity, ProviderSignIn } from '../oidc/oidc-sign-in';
import type { SignInProviderConfig } from '../oidc/sign-in-provider-settings';
import type { OperatorMfa } from '../operators/operator-mfa';
import type { OperatorService } from '../operators/operator-service';
import type { Attempt, SignInLimiter } from '../operators/sign-in-limiter';
import type { StepUps } from '../operators/step-up';
import type { Caller, MethodHandlers, PipeSession } from '../server/dispatcher';
import { askWebEnrolment } from './web-enrolment-handlers';
import type { WebEnrolments } from './web-enrolment';
import { createSecondSteps, SECOND_STEP_ENDED_REMEDY, type SecondStepAnswer } from './provider-second-step';
import { refuseWebSession } from './refuse-web-session';

export interface ProviderSignInDeps {
  operators: OperatorService;
  mfa: OperatorMfa;
  signInLimiter: SignInLimiter;
  stepUps: StepUps;
  /** Sign-ins to web mode that wait for a forced two-factor enrolment (web-enrolment.ts); without it none is asked. */
  webEnrolments?: WebEnrolments;
  /** The settings as read at start, and the flow made from them when they loaded. */
  signInProvider: { config: SignInProviderConfig; flow: ProviderSignIn | null };
  now: () => number;
  /** Hands a URL to the system browser (the desktop app's shell); absent where no browser of this machine's person can be opened. */
  openExternal?: ((url: string) => void) | undefined;
}

type ProviderMethod =
  | 'session.provider'
  | 'session.signInWithProvider'
  | 'session.completeProviderSignIn'
  | 'session.completeProviderSecondStep'
  | 'session.cancelProviderSecondStep';

/**
 * Signing in through the site's OpenID Connect provider (oidc/oidc-sign-in.ts). Failures
 * count against the source address like wrong passwords (sign-in-limiter.ts); the name a
 * try counts against is the attempt's, as the person's name is known only once the ID token
 * verified (a shared name would let anyone lock out everyone's provider sign-in). The audit
 * log records each call with its outcome (with-audit.ts), as for session.signIn.
 *
 * Two-factor sign-in: an operator who has the control center's own TOTP signs in through the
 * provider at once only when the ID token's `amr` shows the provider asked for a second factor
 * (`multi_factor_amr`). Otherwise the sign-in waits for this control center's code
 * (provider-second-step.ts: a ticket for 5 minutes, answered with the code by
 * session.completeProviderSecondStep): in web mode the browser holds the ticket in an HttpOnly
 * cookie; in the desktop app the ticket is bound to the pipe (the window) that started the
 * sign-in, and no other pipe may answer or cancel it, ticket or not. A provider sign-in alone
 * never counts as a step-up (that needs this control center's own code; the second step's
 * code does, as at a password sign-in).
 */
export function createProviderSignInHandlers(deps: ProviderSignInDeps): Pick<MethodHandlers, ProviderMethod> {
  const { operators, mfa, signInLimiter, signInProvider, stepUps } = deps;
  const secondSteps = createSecondSteps({ now: deps.now });
  /** The desktop sign-in under way on each pipe, by its sign-in: its cancel. */
  const inFlight = new WeakMap<object, () => void>();
  /** The desktop sign-in of each pipe that waits for the operator's code: its ticket (one per window). */
  const waitingOn = new WeakMap<PipeSession, string>();
  /** Ends the second step the desktop window `pipe` waits on, if any (it starts over, or it opens another). */
  const endWaiting = (pipe: PipeSession): void => {
    const ticket = waitingOn.get(pipe);
    if (ticket !== undefined) secondSteps.close(ticket);
    waitingOn.delete(pipe);
  };

  const flowOrRefuse = (): ProviderSignIn => {
    if (signInProvider.config.kind === 'invalid') throw signInProvider.config.problem;
    if (signInProvider.flow === null)
      throw new ApiError(
        'OIDC_SIGN_IN_NOT_CONFIGURED',
        'This control center signs no one in through a provider (there is no sign-in-provider.yaml in its data directory).',
        'Sign in with your operator name and password, or ask an admin to set the provider up (README).',
      );
    return signInProvider.flow;
  };

  /** The operator the provider's person is here, enabled; OIDC_OPERATOR_REFUSED with the reason otherwise. */
  const operatorOf = (identity: ProviderIdentity): Operator => {
    // Exactly the name (the claim is printable ASCII, checked in oidc-sign-in.ts): no case folding, which other scripts' letters survive.
    const operator = operators.list().find((candidate) => candidate.name === identity.operatorName);
    if (operator === undefined)
      throw new ApiError(
        'OIDC_OPERATOR_REFUSED',
        `The provider signed you in as "${identity.operatorName}", and this control center has no operator of that name.`,
        'Ask an admin to add you as an operator with that name (the Operators page), then sign in again.',
      );
    if (operator.disabled)
      throw new ApiError(
        'OIDC_OPERATOR_REFUSED',
        `The provider signed you in as "${operator.name}", and that operator is disabled here.`,
        'Ask an admin to enable you on the Operators page.',
      );
    return operator;
  };

  /** A try, counted as failed from its start (sign-in-limiter.ts) until accept() succeeds. */
  const beginTry = (caller: Caller, attemptKey: string): Attempt => {
    const attempt = {
      name: `provider-attempt:${createHash('sha256').update(attemptKey).digest('hex').slice(0, 16)}`,
      address: caller.address ?? 'local',
    };
    signInLimiter.begin(attempt);
    return attempt;
  };

  /** The audit entry of a refusal names who the provider said signed in, and their account there. */
  const claimed = (who: ProviderIdentity) =>
    `claimed ${JSON.stringify(who.operatorName)} (${who.issuer} subject ${JSON.stringify(who.subject)})`;

  /**
   * After the provider's answer: the same end as a password sign-in, or the reason it is
   * refused; an operator with two-factor sign-in whose provider attested no second factor gets
   * a second step instead, bound to `desktopPipe` when the desktop app asked (web mode: undefined,
   * the browser's cookie holds the ticket).
   */
  const acceptOrAsk = (
    caller: Caller,
    attempt: Attempt,
    who: ProviderIdentity,
    desktopPipe: PipeSession | undefined,
  ): Session | SecondStepAnswer => {
    try {
      const operator = operatorOf(who);
      // The account must be the operator's (or neither linked yet) before anything else is said or opened:
      // a stranger's account naming her would learn she has two-factor sign-in and could spend her name's tries.
      // Only read here; the link is written once the sign-in succeeds (signInAs).
      operators.checkProviderSubject(operator, who.issuer, who.subject);
      if (mfa.enrolled(operator.id) && !who.multiFactor) {
        // The provider's part is done (its try no longer counts); the code's tries count against the operator's name.
        signInLimiter.succeeded(attempt);
        const { ticket, expiresAt } = secondSteps.open({ operatorId: operator.id, operatorName: operator.name, who, pipe: desktopPipe });
        if (desktopPipe !== undefined) {
          endWaiting(desktopPipe);
          waitingOn.set(desktopPipe, ticket);
        }
        return { secondStep: { ticket, operator: operator.name, expiresAt } };
      }
      return signInAs(caller, operator, who, attempt);
    } catch (error) {
      throw withAuditTarget(error, claimed(who));
    }
  };

  /**
   * Web mode for a team requires two-factor sign-in (mfa.setWebRequired) and the operator has
   * none: after the same checks as any provider sign-in (an enabled operator, its account link
   * read only), the browser is walked through enrolment before any session (web-enrolment-handlers.ts);
   * the account is linked once the first code is right. A provider that attested a second factor
   * (`multi_factor_amr`) satisfies it, as it lets an enrolled operator in without the code. Null
   * where none is asked (the desktop app, loopback web mode, an enrolled operator, the setting off).
   */
  const enrolFirst = (caller: Caller, attempt: Attempt, who: ProviderIdentity) => {
    const webEnrolments = deps.webEnrolments;
    if (webEnrolments === undefined || caller.session?.teamSignInPage !== true || who.multiFactor || !mfa.webRequired()) return null;
    try {
      const operator = operatorOf(who);
      operators.checkProviderSubject(operator, who.issuer, who.subject);
      const enrolment = askWebEnrolment({ mfa, webEnrolments }, operator, who);
      // The provider's part is done (its try no longer counts); the first codes count against the operator's name.
      if (enrolment !== null) signInLimiter.succeeded(attempt);
      return enrolment;
    } catch (error) {
      throw withAuditTarget(error, claimed(who));
    }
  };

  const signInAs = (caller: Caller, operator: Operator, who: ProviderIdentity, attempt: Attempt): Session => {
    // The name claim may be one the person can change at the provider: the account (iss, sub) decides.
    operators.bindProviderSubject(operator, who.issuer, who.subject);
    caller.session?.signIn(operator.id);
    signInLimiter.succeeded(attempt);
    return operators.sessionOf(operator.id);
  };

  return {
    'session.provider': () => ({
      displayName: signInProvider.flow?.displayName ?? null,
      problem: signInProvider.config.kind === 'invalid' ? signInProvider.config.problem.message : null,
    }),
    'session.completeProviderSignIn': async ({ state, code, binding }, caller) => {
      refuseWebSession(caller);
      const flow = flowOrRefuse();
      const attempt = beginTry(caller, state);
      const who = await flow.complete({ state, code, binding });
      const enrolment = enrolFirst(caller, attempt, who);
      if (enrolment !== null) return enrolment;
      return acceptOrAsk(caller, attempt, who, undefined);
    },
    'session.completeProviderSecondStep': ({ ticket, code }, caller) => {
      refuseWebSession(caller);
      const step = secondSteps.find(ticket);
      // A desktop window's sign-in is answered on that window's pipe only: elsewhere it is as unknown (and spends none of its tries).
      if (step === undefined || (step.pipe !== undefined && step.pipe !== caller.session))
        throw new ApiError(
          'OIDC_SIGN_IN_FAILED',
          'The sign-in through the provider is unknown, signed in already, or older than 5 minutes.',
          'Start again from the sign-in page.',
        );
      try {
        // Counted like a password sign-in's code: against the operator's name and the address, before the code is looked at.
        const attempt: Attempt = { name: step.operatorName, address: caller.address ?? 'local' };
        signInLimiter.begin(attempt);
        const operator = operatorOf(step.who);
        // Removed and added again under the name meanwhile: another operator, whom this sign-in never was.
        if (operator.id !== step.operatorId)
          throw new ApiError(
            'OIDC_OPERATOR_REFUSED',
            `${operator.name} is another operator than when the provider signed you in.`,
            'Start again from the sign-in page.',
          );
        // A code is accepted once (operator-mfa.ts): a reused one is refused like a wrong one.
        if (!mfa.check(operator.id, code)) {
          const left = secondSteps.failed(ticket);
          throw new ApiError(
            'SIGN_IN_FAILED',
            left > 0
              ? 'That two-factor code is not valid now, or it was used already.'
              : 'That two-factor code is not valid now, or it was used already; this sign-in took its last try.',
            left > 0
              ? 'Type the code your authenticator app shows now (wait for the next one if you just used this one), or one of your recovery codes.'
              : SECOND_STEP_ENDED_REMEDY,
          );
        }
        // Signs in once: the ticket is gone before the session is made.
        secondSteps.close(ticket);
        const session = signInAs(caller, operator, step.who, attempt);
        // This control center's own code was proved: it counts as the sign-in's step-up, as with the password form.
        stepUps.mark(caller.session, operator.id);
        return session;
      } catch (error) {
        // An operator disabled, removed or linked to another provider account since: this sign-in cannot end well.
        if (error instanceof ApiError && error.code === 'OIDC_OPERATOR_REFUSED') secondSteps.close(ticket);
        throw withAuditTarget(error, `${claimed(step.who)}, two-factor code`);
      }
    },
    'session.cancelProviderSecondStep': ({ ticket }, caller) => {
      refuseWebSession(caller);
      const step = secondSteps.find(ticket);
      // Another window's sign-in is not this pipe's to end.
      if (step === undefined || (step.pipe !== undefined && step.pipe !== caller.session)) return { cancelled: false };
      secondSteps.close(ticket);
      return { cancelled: true };
    },
    'session.signInWithProvider': async (_params, caller) => {
      refuseWebSession(caller);
      const flow = flowOrRefuse();
      if (deps.openExternal === undefined || caller.session === undefined)
        throw new ApiError(
          'METHOD_NOT_ON_THIS_PIPE',
          'Only the desktop app opens the system browser to sign in through the provider.',
          'In a browser (web mode for a team), press "Sign in with" on the sign-in page.',
        );
      // One at a time per window: pressing the button again replaces the sign-in under way.
      const pipe = caller.session;
      inFlight.get(pipe)?.();
      // Starting over ends the sign-in this window waited on for a code.
      endWaiting(pipe);
      const attempt = beginTry(caller, randomBytes(16).toString('hex'));
      let loopback: LoopbackSignIn<Session | SecondStepAnswer> | undefined;
      try {
        loopback = await startLoopbackSignIn(flow, (who) => acceptOrAsk(caller, attempt, who, pipe), {
          // The browser's tab tells the person where the sign-in goes on.
          pageOf: (answer, who) =>
            'secondStep' in answer
              ? {
                  title: 'Two-factor code needed',
                  text: `The provider signed you in as ${who.operatorName}. Return to SutazAI Control Center and type your two-factor code there to finish signing in; you can close this tab.`,
                }
              : undefined,
        });
        inFlight.set(pipe, loopback.cancel);
        deps.openExternal(loopback.url);
        return await loopback.accepted;
      } finally {
        loopback?.cancel();
        if (loopback !== undefined && inFlight.get(pipe) === loopback.cancel) inFlight.delete(pipe);
        // Cancelled, timed out, or the provider unreachable: nothing was tried, so it does not count against 'local'.
        if (!loopback?.calledBack) signInLimiter.refund(attempt);
      }
    },
  };
}
