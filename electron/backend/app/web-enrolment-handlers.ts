import { ApiError, type Operator } from '../../contract';
import { withAuditTarget } from '../audit/with-audit';
import type { ProviderIdentity } from '../oidc/oidc-sign-in';
import type { OperatorMfa } from '../operators/operator-mfa';
import type { OperatorService } from '../operators/operator-service';
import type { Attempt, SignInLimiter } from '../operators/sign-in-limiter';
import type { StepUps } from '../operators/step-up';
import type { WebSessions } from '../operators/web-sessions';
import type { MethodHandlers } from '../server/dispatcher';
import { refuseWebSession } from './refuse-web-session';
import { WEB_ENROLMENT_ENDED_REMEDY, type WebEnrolment, type WebEnrolmentAnswer, type WebEnrolments } from './web-enrolment';

export interface WebEnrolmentDeps {
  operators: OperatorService;
  mfa: OperatorMfa;
  stepUps: StepUps;
  signInLimiter: SignInLimiter;
  webEnrolments: WebEnrolments;
  webSessions: Pick<WebSessions, 'endAllOf'>;
}

type WebEnrolmentMethod = 'mfa.setWebRequired' | 'session.beginWebEnrolment' | 'session.confirmWebEnrolment' | 'session.cancelWebEnrolment';

/**
 * The answer that walks an operator through enrolment instead of signing in, on web mode for a
 * team's sign-in (a right password, or a provider sign-in whose account link checked out),
 * when two-factor sign-in is required there and the operator has none; null otherwise (sign in
 * as before). The audit entry of the sign-in names it ("two-factor enrolment asked").
 */
export function askWebEnrolment(
  deps: Pick<WebEnrolmentDeps, 'mfa' | 'webEnrolments'>,
  operator: Pick<Operator, 'id' | 'name' | 'updatedAt'>,
  who?: ProviderIdentity,
): WebEnrolmentAnswer | null {
  if (!deps.mfa.webRequired() || deps.mfa.enrolled(operator.id)) return null;
  const { ticket, expiresAt } = deps.webEnrolments.open({
    operatorId: operator.id,
    operatorName: operator.name,
    operatorUpdatedAt: operator.updatedAt,
    who,
  });
  return withAuditTarget(
    { enrolment: { ticket, operator: operator.name, expiresAt } },
    `operator ${operator.name}, two-factor enrolment asked`,
  );
}

/**
 * Two-factor sign-in required of web mode for a team (issue 14, item 4): the setting, and the
 * forced enrolment a sign-in to web mode goes through when it is on and the operator has no
 * two-factor sign-in (web-enrolment.ts holds the tickets). The ticket is the browser's (an
 * HttpOnly cookie: web-team-enrolment.ts); each first code counts against the operator's name
 * and the address like a sign-in's code; the audit log records each call with its outcome.
 */
export function createWebEnrolmentHandlers(deps: WebEnrolmentDeps): Pick<MethodHandlers, WebEnrolmentMethod> {
  const { operators, mfa, stepUps, signInLimiter, webEnrolments, webSessions } = deps;

  const enrolmentOf = (ticket: string): WebEnrolment => {
    const enrolment = webEnrolments.find(ticket);
    if (enrolment === undefined)
      throw new ApiError(
        'MFA_ENROLMENT_ENDED',
        'This browser has no two-factor set-up waiting: it finished, was cancelled, took its last try, or is older than 5 minutes.',
        WEB_ENROLMENT_ENDED_REMEDY,
      );
    return enrolment;
  };

  /**
   * The enrolment's operator as it is now: removed, disabled, or (a provider sign-in) its
   * account link changed since, the enrolment ends (the sign-in it stood for would be refused now).
   */
  const operatorNow = (ticket: string, enrolment: WebEnrolment): Operator => {
    const current = operators.current(enrolment.operatorId);
    const operator = current && current.name === enrolment.operatorName ? operators.named(current.name) : undefined;
    try {
      if (operator === undefined) throw ended(`${enrolment.operatorName} was removed, renamed or disabled since signing in.`);
      if (operator.updatedAt !== enrolment.operatorUpdatedAt)
        throw ended(`${operator.name} was changed since signing in (a new password, or a new role).`);
      if (enrolment.who) operators.checkProviderSubject(operator, enrolment.who.issuer, enrolment.who.subject);
      return operator;
    } catch (error) {
      webEnrolments.close(ticket);
      throw error;
    }
  };

  const target = (enrolment: WebEnrolment, what: string) => `operator ${enrolment.operatorName}, ${what}`;

  return {
    'mfa.setWebRequired': ({ required }, caller) => {
      // Changed only by an admin who has two-factor sign-in (the role and step-up are checked around this handler).
      const self = caller.operator;
      if (!(self && mfa.enrolled(self.id)))
        throw new ApiError(
          'MFA_NOT_ENROLLED',
          `${self?.name ?? 'This window'} has no two-factor sign-in: only an admin who has it changes whether web mode requires it.`,
          'Sign in as an admin and set up two-factor sign-in under My two-factor sign-in on the Operators page first.',
          { cliRemedy: 'Enrol first (`sutazai operators mfa enrol NAME --as NAME`), then run this with --as NAME --code.' },
        );
      mfa.setWebRequired(required);
      if (!required) return { required };
      // A browser session signed in without a second factor (the setting was off then) would outlive the rule by up to
      // 12 hours: it ends now, and its operator enrols at the next sign-in. Sessions of an operator who has it stay.
      const ended = operators
        .list()
        .filter((operator) => !mfa.enrolled(operator.id) && webSessions.endAllOf(operator.id, 'two-factor sign-in required') > 0)
        .map((operator) => operator.name);
      return ended.length === 0
        ? { required }
        : withAuditTarget({ required }, `browser sessions of operators without two-factor sign-in ended: ${ended.join(', ')}`);
    },
    'session.beginWebEnrolment': ({ ticket }, caller) => {
      refuseWebSession(caller);
      const enrolment = enrolmentOf(ticket);
      try {
        const operator = operatorNow(ticket, enrolment);
        let begun: { secret: string; uri: string };
        try {
          // Asked again (a reload of the page), a new secret replaces the one shown before, which no longer works.
          begun = mfa.begin(operator);
        } catch (error) {
          if (error instanceof ApiError && error.code === 'SECRETS_LOCKED')
            throw new ApiError(
              'SECRETS_LOCKED',
              'Two-factor sign-in is required here, and its secret is sealed in the vault, which is locked.',
              'Ask an admin who is signed in to unlock the vault (or whoever runs web mode to start it with the passphrase), then try again.',
            );
          if (error instanceof ApiError && error.code === 'MFA_ALREADY_ENROLLED') {
            webEnrolments.close(ticket);
            throw ended(`${operator.name} has two-factor sign-in now.`, 'Sign in again from the sign-in page: it asks for your code.');
          }
          throw error;
        }
        webEnrolments.begun(ticket);
        return withAuditTarget(
          { name: operator.name, ...begun, expiresAt: enrolment.expiresAt },
          target(enrolment, 'two-factor secret shown'),
        );
      } catch (error) {
        throw withAuditTarget(error, target(enrolment, 'two-factor secret'));
      }
    },
    'session.confirmWebEnrolment': ({ ticket, code }, caller) => {
      refuseWebSession(caller);
      const enrolment = enrolmentOf(ticket);
      try {
        // Counted like a sign-in's code: against the operator's name and the address, before the code is looked at.
        const attempt: Attempt = { name: enrolment.operatorName, address: caller.address ?? 'local' };
        signInLimiter.begin(attempt);
        const operator = operatorNow(ticket, enrolment);
        if (!enrolment.begun)
          throw new ApiError(
            'MFA_NOT_ENROLLED',
            'No secret was shown for this set-up yet, so no code can confirm it.',
            'Reload the page: it shows the QR code and the secret, then type the code the app shows.',
          );
        let recoveryCodes: string[];
        try {
          ({ recoveryCodes } = mfa.confirm(operator.id, code));
        } catch (error) {
          if (!(error instanceof ApiError && error.code === 'MFA_CODE_WRONG')) {
            webEnrolments.close(ticket);
            throw error;
          }
          const left = webEnrolments.failed(ticket);
          // The last try ends the set-up: its own code, so the page (and web mode, clearing the cookie) stops asking.
          if (left === 0) throw ended('That code is not the one the app shows now, or it was used already; this set-up took its last try.');
          throw new ApiError(
            'MFA_CODE_WRONG',
            `That code is not the one the app shows now, or it was used already (${left} ${left === 1 ? 'try' : 'tries'} left).`,
            // A reload (or a second tab) made a new secret and the app still shows the first one's codes: the likeliest miss.
            'Type the 6 digits the authenticator app shows now (wait for the next one if you just typed this one). If this page was reloaded or opened in another tab after you scanned, its QR code changed: scan the one shown now and delete the older entry in the app. Check that the phone’s clock is right.',
          );
        }
        // Signs in once: the ticket is gone before the session is made.
        webEnrolments.close(ticket);
        if (enrolment.who) operators.bindProviderSubject(operator, enrolment.who.issuer, enrolment.who.subject);
        caller.session?.signIn(operator.id);
        signInLimiter.succeeded(attempt);
        // This control center's own code was proved: it counts as the session's step-up, as at a sign-in with a code.
        stepUps.mark(caller.session, operator.id);
        return withAuditTarget({ ...operators.sessionOf(operator.id), recoveryCodes }, target(enrolment, 'two-factor sign-in set up'));
      } catch (error) {
        throw withAuditTarget(error, target(enrolment, 'two-factor first code'));
      }
    },
    'session.cancelWebEnrolment': ({ ticket }, caller) => {
      refuseWebSession(caller);
      const enrolment = webEnrolments.find(ticket);
      webEnrolments.close(ticket);
      const answer = { cancelled: enrolment !== undefined };
      return enrolment ? withAuditTarget(answer, target(enrolment, 'two-factor set-up cancelled')) : answer;
    },
  };
}

function ended(message: string, remedy = WEB_ENROLMENT_ENDED_REMEDY): ApiError {
  return new ApiError('MFA_ENROLMENT_ENDED', message, remedy);
}
