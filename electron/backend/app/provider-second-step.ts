import type { ProviderIdentity } from '../oidc/oidc-sign-in';
import type { PipeSession } from '../server/dispatcher';
import { createSignInTickets } from './sign-in-tickets';

/** How long a provider sign-in waits for its two-factor code: as long as the provider's own attempt lives. */
export const SECOND_STEP_MS = 5 * 60_000;
/** Wrong codes one second step takes before it ends (the name's limit counts them too). */
export const SECOND_STEP_TRIES = 5;
/**
 * The remedy of the refusal of a second step's last wrong code (the ticket has ended): web mode
 * clears the ticket's cookie with that answer, so the page stops asking for a code.
 */
export const SECOND_STEP_ENDED_REMEDY = 'Start again from the sign-in page.';
/** Second steps held at once: past it the oldest goes (a flood of provider sign-ins cannot grow memory). */
const MAX_SECOND_STEPS = 1000;

/** What session.completeProviderSignIn (and the desktop app's session.signInWithProvider) answers when the operator's code must follow. */
export interface SecondStepAnswer {
  secondStep: { ticket: string; operator: string; expiresAt: number };
}

export interface SecondStep {
  readonly operatorId: number;
  readonly operatorName: string;
  /** Who the provider said signed in: the account is bound to the operator only once the code is right. */
  readonly who: ProviderIdentity;
  /**
   * The desktop app's pipe that started it: only that pipe may answer or cancel it (the ticket
   * alone is not enough). Absent in web mode, where the ticket's HttpOnly cookie binds it to the browser.
   */
  readonly pipe?: PipeSession | undefined;
}

/**
 * The provider sign-ins that wait for this control center's two-factor code (the provider did
 * not attest a second factor and the operator has TOTP here; web mode and the desktop app). Each is known by a
 * ticket of 256 random bits, kept only as its SHA-256 (a copy of this memory names no live
 * ticket), for 5 minutes, until it signs in once, or until SECOND_STEP_TRIES wrong codes.
 * In memory only: a restart of the backend asks the person to start again.
 */
export interface SecondSteps {
  open(step: SecondStep): { ticket: string; expiresAt: number };
  /** The live second step of `ticket`, or undefined (unknown, expired, used, out of tries). */
  find(ticket: string): SecondStep | undefined;
  /** A wrong code on `ticket`: the tries it has left (0: it has ended). */
  failed(ticket: string): number;
  /** Ends the second step of `ticket` (it signed in, or its operator is refused). */
  close(ticket: string): void;
}

export function createSecondSteps(deps: { now: () => number }): SecondSteps {
  const tickets = createSignInTickets<SecondStep>({
    now: deps.now,
    lifetimeMs: SECOND_STEP_MS,
    tries: SECOND_STEP_TRIES,
    max: MAX_SECOND_STEPS,
  });
  return {
    open: (step) => tickets.open(step),
    find(ticket) {
      const step = tickets.find(ticket);
      return step && { operatorId: step.operatorId, operatorName: step.operatorName, who: step.who, pipe: step.pipe };
    },
    failed: (ticket) => tickets.failed(ticket),
    close: (ticket) => tickets.close(ticket),
  };
}
