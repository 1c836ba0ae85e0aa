import type { ProviderIdentity } from '../oidc/oidc-sign-in';
import { createSignInTickets } from './sign-in-tickets';

/** How long a forced enrolment waits for its first code: time to install an authenticator app and scan. */
export const WEB_ENROLMENT_MS = 5 * 60_000;
/** Wrong first codes one enrolment takes before it ends (the operator's name counts them too). */
export const WEB_ENROLMENT_TRIES = 5;
/** The remedy of a refusal that ends an enrolment (MFA_ENROLMENT_ENDED: its last wrong code, its operator changed, it expired). */
export const WEB_ENROLMENT_ENDED_REMEDY = 'Sign in again from the sign-in page to start the set-up over.';
/** Enrolments held at once: past it the oldest goes (a flood of sign-ins cannot grow memory). */
const MAX_WEB_ENROLMENTS = 1000;

/** What session.signIn and session.completeProviderSignIn answer when the operator must enrol first. */
export interface WebEnrolmentAnswer {
  enrolment: { ticket: string; operator: string; expiresAt: number };
}

export interface WebEnrolment {
  readonly operatorId: number;
  readonly operatorName: string;
  /**
   * The operator record's last change when the sign-in was right: a change since (a new password,
   * break-glass `operators reset-admin` from another process included) ends the enrolment.
   */
  readonly operatorUpdatedAt: number;
  /** Who the provider said signed in, when it was a provider sign-in: the account is linked once the enrolment is confirmed. */
  readonly who?: ProviderIdentity | undefined;
  /** A secret was made for this enrolment (session.beginWebEnrolment): a code can confirm it. */
  readonly begun: boolean;
  readonly expiresAt: number;
}

/**
 * The sign-ins to web mode for a team that wait for the operator's first two-factor code
 * (issue 14, item 4: two-factor sign-in required of web mode, `mfa.setWebRequired`): the
 * password (or the provider) was right and the operator has no two-factor sign-in, so the
 * session starts only once the operator enrolled. Each is known by a ticket of 256 random
 * bits, kept only as its SHA-256 (a copy of this memory names no live ticket), for 5 minutes,
 * until it signs in once, or until WEB_ENROLMENT_TRIES wrong codes. One per operator: a new
 * sign-in ends the earlier one (its secret is replaced anyway). In memory only: a restart of
 * the backend asks the person to sign in again.
 */
export interface WebEnrolments {
  open(enrolment: { operatorId: number; operatorName: string; operatorUpdatedAt: number; who?: ProviderIdentity | undefined }): {
    ticket: string;
    expiresAt: number;
  };
  /** The live enrolment of `ticket`, or undefined (unknown, expired, used, out of tries). */
  find(ticket: string): WebEnrolment | undefined;
  /** A secret was made for `ticket`'s enrolment. */
  begun(ticket: string): void;
  /** A wrong code on `ticket`: the tries it has left (0: it has ended). */
  failed(ticket: string): number;
  /** Ends the enrolment of `ticket` (it signed in, was cancelled, or its operator is refused). */
  close(ticket: string): void;
  /** Ends every enrolment of an operator (removed, disabled, or its password changed: a ticket from the old password must not go on). */
  endAllOf(operatorId: number): void;
}

export function createWebEnrolments(deps: { now: () => number }): WebEnrolments {
  const tickets = createSignInTickets<Omit<WebEnrolment, 'expiresAt'> & { begun: boolean }>({
    now: deps.now,
    lifetimeMs: WEB_ENROLMENT_MS,
    tries: WEB_ENROLMENT_TRIES,
    max: MAX_WEB_ENROLMENTS,
  });
  const endAllOf = (operatorId: number) => tickets.closeWhere((enrolment) => enrolment.operatorId === operatorId);
  return {
    open({ operatorId, operatorName, operatorUpdatedAt, who }) {
      // One set-up per operator: a new sign-in's ticket ends the one before.
      endAllOf(operatorId);
      return tickets.open({ operatorId, operatorName, operatorUpdatedAt, who, begun: false });
    },
    find(ticket) {
      const enrolment = tickets.find(ticket);
      return enrolment && { ...enrolment };
    },
    begun(ticket) {
      const enrolment = tickets.find(ticket);
      if (enrolment) enrolment.begun = true;
    },
    failed: (ticket) => tickets.failed(ticket),
    close: (ticket) => tickets.close(ticket),
    endAllOf,
  };
}
