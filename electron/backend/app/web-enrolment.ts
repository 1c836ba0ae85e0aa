import { createHash, randomBytes } from 'node:crypto';
import type { ProviderIdentity } from '../oidc/oidc-sign-in';

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
  type Held = {
    operatorId: number;
    operatorName: string;
    operatorUpdatedAt: number;
    who?: ProviderIdentity | undefined;
    begun: boolean;
    expiresAt: number;
    triesLeft: number;
  };
  const held = new Map<string, Held>();
  // The ticket is the secret; the map is keyed by its hash, so a lookup compares no secret byte by byte.
  const keyOf = (ticket: string) => createHash('sha256').update(ticket, 'utf8').digest('hex');
  const live = (ticket: string): Held | undefined => {
    const key = keyOf(ticket);
    const enrolment = held.get(key);
    if (enrolment === undefined) return undefined;
    if (enrolment.expiresAt > deps.now()) return enrolment;
    held.delete(key);
    return undefined;
  };
  const endAllOf = (operatorId: number) => {
    for (const [key, enrolment] of held) if (enrolment.operatorId === operatorId) held.delete(key);
  };

  return {
    open({ operatorId, operatorName, operatorUpdatedAt, who }) {
      const at = deps.now();
      for (const [key, enrolment] of held) if (enrolment.expiresAt <= at) held.delete(key);
      endAllOf(operatorId);
      // Insertion order is age order: the first key is the oldest.
      while (held.size >= MAX_WEB_ENROLMENTS) held.delete(held.keys().next().value!);
      const ticket = randomBytes(32).toString('base64url');
      const expiresAt = at + WEB_ENROLMENT_MS;
      held.set(keyOf(ticket), {
        operatorId,
        operatorName,
        operatorUpdatedAt,
        who,
        begun: false,
        expiresAt,
        triesLeft: WEB_ENROLMENT_TRIES,
      });
      return { ticket, expiresAt };
    },
    find(ticket) {
      const enrolment = live(ticket);
      if (enrolment === undefined) return undefined;
      const { operatorId, operatorName, operatorUpdatedAt, who, begun, expiresAt } = enrolment;
      return { operatorId, operatorName, operatorUpdatedAt, who, begun, expiresAt };
    },
    begun(ticket) {
      const enrolment = live(ticket);
      if (enrolment) enrolment.begun = true;
    },
    failed(ticket) {
      const enrolment = live(ticket);
      if (enrolment === undefined) return 0;
      enrolment.triesLeft -= 1;
      if (enrolment.triesLeft <= 0) held.delete(keyOf(ticket));
      return Math.max(0, enrolment.triesLeft);
    },
    close(ticket) {
      held.delete(keyOf(ticket));
    },
    endAllOf,
  };
}
