import { createHash, randomBytes } from 'node:crypto';
import { ApiError, type Operator, type Session } from '../../contract';
import { withAuditTarget } from '../audit/with-audit';
import { startLoopbackSignIn, type LoopbackSignIn } from '../oidc/oidc-loopback';
import type { ProviderIdentity, ProviderSignIn } from '../oidc/oidc-sign-in';
import type { SignInProviderConfig } from '../oidc/sign-in-provider-settings';
import type { OperatorMfa } from '../operators/operator-mfa';
import type { OperatorService } from '../operators/operator-service';
import type { Attempt, SignInLimiter } from '../operators/sign-in-limiter';
import type { Caller, MethodHandlers } from '../server/dispatcher';

export interface ProviderSignInDeps {
  operators: OperatorService;
  mfa: OperatorMfa;
  signInLimiter: SignInLimiter;
  /** The settings as read at start, and the flow made from them when they loaded. */
  signInProvider: { config: SignInProviderConfig; flow: ProviderSignIn | null };
  /** Hands a URL to the system browser (the desktop app's shell); absent where no browser of this machine's person can be opened. */
  openExternal?: ((url: string) => void) | undefined;
}

type ProviderMethod = 'session.provider' | 'session.signInWithProvider' | 'session.completeProviderSignIn';

/**
 * Signing in through the site's OpenID Connect provider (oidc/oidc-sign-in.ts). Failures
 * count against the source address like wrong passwords (sign-in-limiter.ts); the name a
 * try counts against is the attempt's, as the person's name is known only once the ID token
 * verified (a shared name would let anyone lock out everyone's provider sign-in). The audit
 * log records each call with its outcome (with-audit.ts), as for session.signIn.
 *
 * Two-factor sign-in: an operator who has the control center's own TOTP signs in through the
 * provider only when the ID token's `amr` shows the provider asked for a second factor
 * (`multi_factor_amr`); otherwise MFA_REQUIRED says to use the password form with the code.
 * A provider sign-in never counts as a step-up (that needs this control center's own code).
 */
export function createProviderSignInHandlers(deps: ProviderSignInDeps): Pick<MethodHandlers, ProviderMethod> {
  const { operators, mfa, signInLimiter, signInProvider } = deps;
  /** The desktop sign-in under way on each pipe, by its sign-in: its cancel. */
  const inFlight = new WeakMap<object, () => void>();

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

  const refuseWebSession = (caller: Caller): void => {
    if (caller.session?.webSessionId !== undefined)
      throw new ApiError(
        'METHOD_NOT_ON_THIS_PIPE',
        'This browser is signed in already; its connection cannot sign in as another operator.',
        'Sign out, then sign in on the sign-in page.',
      );
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

  /** After the provider's answer: the same end as a password sign-in, or the reason it is refused. */
  const accept = (caller: Caller, attempt: Attempt, who: ProviderIdentity): Session => {
    try {
      return acceptOrRefuse(caller, attempt, who);
    } catch (error) {
      // The audit entry of a refusal names who the provider said signed in, and their account there.
      throw withAuditTarget(error, `claimed ${JSON.stringify(who.operatorName)} (${who.issuer} subject ${JSON.stringify(who.subject)})`);
    }
  };

  const acceptOrRefuse = (caller: Caller, attempt: Attempt, who: ProviderIdentity): Session => {
    const operator = operatorOf(who);
    if (mfa.enrolled(operator.id) && !who.multiFactor)
      throw new ApiError(
        'MFA_REQUIRED',
        `${operator.name} has two-factor sign-in here, and the provider did not ask for a second factor.`,
        'Sign in with your name, password and two-factor code instead, or ask whoever runs the provider to require a second factor.',
      );
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
      return accept(caller, attempt, await flow.complete({ state, code, binding }));
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
      const attempt = beginTry(caller, randomBytes(16).toString('hex'));
      let loopback: LoopbackSignIn<Session> | undefined;
      try {
        loopback = await startLoopbackSignIn(flow, (who) => accept(caller, attempt, who));
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
