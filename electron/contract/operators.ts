import { z } from 'zod';
import { InstallNameSchema } from './installs';
import { LabelSchema } from './inventory';
import { FleetProcessNameSchema } from './fleet-processes';
import { ROLES, type Action, type Role } from './method-actions';

/**
 * Operators (issue 14, item 1): the people the control center knows, each with a role
 * (viewer, operator, admin) and attributes that later access policies select on. While
 * none exists every pipe acts as the one admin, as before operators; once one exists, each
 * pipe signs in as one (session.signIn) before anything but app.info and session.*.
 */

export const RoleSchema = z.enum(ROLES);

/** Letters, digits, ".", "_", "-" and "@" (an e-mail-like name fits), starting with a letter or digit. */
export const OperatorNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'use 1 to 64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit');

/** A password as it crosses the API: only in sign-in, add and set requests, never in a result or a log. */
export const OperatorPasswordSchema = z.string().min(1).max(1024);

/** A new password needs this many characters (an attacker with the database pays one scrypt per guess). */
export const MIN_OPERATOR_PASSWORD_LENGTH = 12;

/** `HH:MM-HH:MM` in the control center's local time; a window past midnight (22:00-06:00) wraps. */
export const OperatorHoursSchema = z
  .string()
  .regex(/^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$/, 'a time window as HH:MM-HH:MM, e.g. 08:00-18:00');

/**
 * What an operator is, beyond the role, for attribute-based access (access_control: abac,
 * agents-runtime/src/access): all optional; an absent one limits nothing. `installs`,
 * `hostLabels` (a host must carry each: labels as hosts carry them, `rack=b4`, `gpu`) and
 * `processes` bound what the operator may act on, `hours` when; policy rules select operators
 * by them too.
 */
export const OperatorAttributesSchema = z
  .object({
    team: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/, 'a team name: letters, digits, spaces, ".", "_" or "-" (up to 64)')
      .optional(),
    installs: z.array(InstallNameSchema).max(64).optional(),
    hostLabels: z.array(LabelSchema).max(32).optional(),
    processes: z.array(FleetProcessNameSchema).max(64).optional(),
    hours: OperatorHoursSchema.optional(),
  })
  .strict();
export type OperatorAttributes = z.infer<typeof OperatorAttributesSchema>;

export const OperatorSchema = z.object({
  id: z.number().int().positive(),
  name: OperatorNameSchema,
  role: RoleSchema,
  attributes: OperatorAttributesSchema,
  disabled: z.boolean(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});
export type Operator = z.infer<typeof OperatorSchema>;

/**
 * An operator as the list shows it: with whether two-factor sign-in is on (confirmed) for it,
 * and whether it has a password it can sign in with (one a configuration bundle brought in
 * has none until an admin sets one).
 */
export const OperatorListEntrySchema = OperatorSchema.extend({ twoFactor: z.boolean(), passwordSet: z.boolean() });
export type OperatorListEntry = z.infer<typeof OperatorListEntrySchema>;

/**
 * A browser's sign-in in web mode for a team (issue 14, item 5): where from, when it began,
 * and when it ends (idle, or in all). Never its secret.
 */
export const WebSessionSchema = z.object({
  id: z.number().int().positive(),
  operator: OperatorNameSchema,
  createdAt: z.number().int(),
  lastSeenAt: z.number().int(),
  idleExpiresAt: z.number().int(),
  expiresAt: z.number().int(),
  address: z.string(),
  userAgent: z.string(),
  /** The session of the pipe that asked. */
  current: z.boolean(),
});
export type WebSession = z.infer<typeof WebSessionSchema>;

/**
 * Who this pipe acts as. `role` is what its calls are checked against: `admin` while no
 * operator exists (the bootstrap), the signed-in operator's role, or null when it must
 * sign in first.
 */
export const SessionSchema = z.object({
  operatorsExist: z.boolean(),
  operator: OperatorSchema.pick({ id: true, name: true, role: true, attributes: true }).nullable(),
  role: RoleSchema.nullable(),
});
export type Session = z.infer<typeof SessionSchema>;

/**
 * A provider sign-in that waits for this control center's two-factor code (the provider did
 * not attest a second factor): the ticket for session.completeProviderSecondStep, whose operator, until when.
 */
export const ProviderSecondStepSchema = z
  .object({ secondStep: z.object({ ticket: z.string(), operator: OperatorNameSchema, expiresAt: z.number().int() }) })
  .strict();
export type ProviderSecondStep = z.infer<typeof ProviderSecondStepSchema>['secondStep'];

/** A TOTP code (6 digits) or a recovery code (`ABCD-EFGH-JKMN`) as typed: spaces and dashes allowed; only in requests, never logged. */
export const MfaCodeSchema = z.string().min(1).max(64);

/**
 * An operator's two-factor sign-in (issue 14, item 4), as mfa.status answers it for the
 * pipe's own operator, with the control center's step-up setting and this pipe's step-up.
 */
export const MfaStatusSchema = z.object({
  /** A first code confirmed the enrolment: sign-in asks for a code. */
  enrolled: z.boolean(),
  /** An enrolment awaits its first code. */
  pending: z.boolean(),
  recoveryCodesLeft: z.number().int().nonnegative(),
  /** Admin actions (install, upgrade, uninstall, trust a key, manage operators) need a code typed within a few minutes. */
  stepUpRequired: z.boolean(),
  /** Until when this pipe may take admin actions without a new code (ms since the epoch), or null. */
  stepUpUntil: z.number().int().nullable(),
  /** Web mode for a team requires two-factor sign-in: an operator without it enrols at sign-in before any session. */
  webRequired: z.boolean(),
});
export type MfaStatus = z.infer<typeof MfaStatusSchema>;

/**
 * A sign-in to web mode for a team that waits for the operator's two-factor enrolment (the
 * setting `mfa.setWebRequired` is on and the operator has none): the ticket for
 * session.beginWebEnrolment and session.confirmWebEnrolment (web mode keeps it in an HttpOnly
 * cookie; never shown), whose operator, until when.
 */
export const WebEnrolmentAskedSchema = z
  .object({ enrolment: z.object({ ticket: z.string(), operator: OperatorNameSchema, expiresAt: z.number().int() }) })
  .strict();

export const operatorMethods = {
  /** Every operator, by name, with whether it has two-factor sign-in; never a password or its hash. */
  'operators.list': {
    params: z.object({}).strict(),
    result: z.array(OperatorListEntrySchema),
  },
  /** A new operator; the first one must be an admin (OPERATOR_LAST_ADMIN), names are unique (OPERATOR_NAME_TAKEN). */
  'operators.add': {
    params: z
      .object({
        name: OperatorNameSchema,
        role: RoleSchema,
        password: OperatorPasswordSchema,
        attributes: OperatorAttributesSchema.default({}),
      })
      .strict(),
    result: OperatorSchema,
  },
  /**
   * Changes an operator: what is given replaces what was (attributes whole). A change that
   * would leave no enabled admin is refused (OPERATOR_LAST_ADMIN); a disabled operator's
   * pipes stop acting as it at their next call.
   */
  'operators.set': {
    params: z
      .object({
        name: OperatorNameSchema,
        role: RoleSchema.optional(),
        password: OperatorPasswordSchema.optional(),
        attributes: OperatorAttributesSchema.optional(),
        disabled: z.boolean().optional(),
        /** Forgets the provider account the operator is linked to (a person whose account at the site's provider changed). */
        clearProviderSubject: z.literal(true).optional(),
      })
      .strict(),
    result: OperatorSchema,
  },
  /** Removes an operator; its pipes stop acting as it at their next call. Removing the last operator returns to the bootstrap. */
  'operators.remove': {
    params: z.object({ name: OperatorNameSchema }).strict(),
    result: z.object({ removed: OperatorNameSchema }),
  },
  /**
   * Signs this pipe in; SIGN_IN_FAILED for a wrong name, password or code alike. An operator
   * with two-factor sign-in needs `code` too (a TOTP code or a recovery code): without it,
   * the right password is answered with MFA_REQUIRED. A code signed in with counts as this
   * pipe's step-up. On web mode for a team's sign-in page, with two-factor sign-in required
   * there (mfa.setWebRequired), an operator without it is not signed in yet: the answer is
   * `enrolment`, a ticket for session.beginWebEnrolment and session.confirmWebEnrolment.
   */
  'session.signIn': {
    params: z.object({ name: z.string().min(1).max(256), password: OperatorPasswordSchema, code: MfaCodeSchema.optional() }).strict(),
    result: z.union([SessionSchema, WebEnrolmentAskedSchema]),
  },
  /**
   * Whether people may sign in through the site's OpenID Connect provider
   * (`sign-in-provider.yaml` in the data directory): its name for the button, or null; a
   * file that does not load gives null and `problem`.
   */
  'session.provider': {
    params: z.object({}).strict(),
    result: z.object({ displayName: z.string().nullable(), problem: z.string().nullable() }),
  },
  /**
   * The desktop app's sign-in through the provider: the system browser opens the provider's
   * page and comes back to a listener on 127.0.0.1 (RFC 8252); answers once the person
   * signed in there (at most 5 minutes). Not in web mode (METHOD_NOT_ON_THIS_PIPE): a browser
   * goes to /oidc/start instead. An operator with this control center's two-factor sign-in
   * whose provider did not attest a second factor is not signed in yet: the answer is
   * `secondStep`, a ticket for session.completeProviderSecondStep that only this pipe may use.
   */
  'session.signInWithProvider': {
    params: z.object({}).strict(),
    result: z.union([SessionSchema, ProviderSecondStepSchema]),
  },
  /**
   * Web mode's provider callback (/oidc/callback) on a pipe of its own: the state and code
   * the provider sent back and the browser's binding cookie. OIDC_SIGN_IN_FAILED for an
   * unknown, used, expired or foreign state, a refused code or an ID token that does not
   * verify; OIDC_OPERATOR_REFUSED for a person who is no enabled operator here. An operator
   * with this control center's two-factor sign-in whose provider did not attest a second factor
   * (`multi_factor_amr`) is not signed in yet: the answer is `secondStep`, a ticket for
   * session.completeProviderSecondStep (web mode keeps it in an HttpOnly cookie; never shown).
   * Where web mode requires two-factor sign-in (mfa.setWebRequired), an operator without it
   * whose provider attested no second factor is not signed in yet either: the answer is
   * `enrolment`, a ticket for session.beginWebEnrolment and session.confirmWebEnrolment.
   */
  'session.completeProviderSignIn': {
    params: z
      .object({ state: z.string().min(1).max(256), code: z.string().min(1).max(4096), binding: z.string().min(1).max(256) })
      .strict(),
    result: z.union([SessionSchema, ProviderSecondStepSchema, WebEnrolmentAskedSchema]),
  },
  /**
   * The second step of a provider sign-in (web mode: POST /oidc/second-step; the desktop app:
   * its window's pipe): the two-factor code (TOTP or recovery code) for the ticket
   * session.completeProviderSignIn or session.signInWithProvider gave. The ticket lasts 5
   * minutes and signs in once; each code counts against the operator's name and the address
   * like a sign-in (SIGN_IN_THROTTLED), and a wrong or reused code is SIGN_IN_FAILED (5 on one
   * ticket end it); an unknown, used or expired ticket, or a desktop window's ticket on another
   * pipe, is OIDC_SIGN_IN_FAILED.
   */
  'session.completeProviderSecondStep': {
    params: z.object({ ticket: z.string().min(1).max(256), code: MfaCodeSchema }).strict(),
    result: SessionSchema,
  },
  /**
   * "Sign in another way" (web mode: DELETE /oidc/second-step): ends the second step of the
   * ticket, so a copy of the browser's cookie cannot type codes for it later. `cancelled` is
   * false where no second step waited on it (unknown, used or expired, or another desktop window's).
   */
  'session.cancelProviderSecondStep': {
    params: z.object({ ticket: z.string().min(1).max(256) }).strict(),
    result: z.object({ cancelled: z.boolean() }).strict(),
  },
  /** A fresh code for admin actions on this pipe (step-up); MFA_CODE_WRONG for a wrong or reused one. */
  'session.stepUp': {
    params: z.object({ code: MfaCodeSchema }).strict(),
    result: z.object({ until: z.number().int() }),
  },
  /** This pipe's operator's two-factor sign-in and the step-up setting. */
  'mfa.status': {
    params: z.object({}).strict(),
    result: MfaStatusSchema,
  },
  /**
   * Starts a two-factor enrolment: a new secret, shown once, and the otpauth URI for the QR
   * code. For the pipe's own operator, or (an admin's, with step-up) another one named.
   */
  'mfa.enrolBegin': {
    params: z.object({ name: OperatorNameSchema.optional() }).strict(),
    result: z.object({ name: OperatorNameSchema, secret: z.string(), uri: z.string() }),
  },
  /** Confirms the enrolment with a first valid code; the ten recovery codes, shown this once. */
  'mfa.enrolConfirm': {
    params: z.object({ name: OperatorNameSchema.optional(), code: MfaCodeSchema }).strict(),
    result: z.object({ name: OperatorNameSchema, recoveryCodes: z.array(z.string()) }),
  },
  /** Drops an operator's two-factor sign-in and recovery codes (a lost device): they sign in with the password and enrol again. */
  'mfa.reset': {
    params: z.object({ name: OperatorNameSchema }).strict(),
    result: z.object({ name: OperatorNameSchema }),
  },
  /** Turns step-up before admin actions on or off; on needs the admin turning it on to have two-factor sign-in (MFA_NOT_ENROLLED). */
  'mfa.setStepUp': {
    params: z.object({ required: z.boolean() }).strict(),
    result: z.object({ required: z.boolean() }),
  },
  /**
   * Turns on or off two-factor sign-in required of every operator of web mode for a team (an
   * operator without it enrols at sign-in before any session; loopback web mode and the desktop
   * app are not affected). Only an admin with two-factor sign-in changes it (MFA_NOT_ENROLLED).
   */
  'mfa.setWebRequired': {
    params: z.object({ required: z.boolean() }).strict(),
    result: z.object({ required: z.boolean() }),
  },
  /**
   * Web mode's forced enrolment (POST /session/enrolment/secret): a new TOTP secret for the
   * operator of the ticket session.signIn or session.completeProviderSignIn gave, shown this
   * once (asked again, a new one replaces it). MFA_ENROLMENT_ENDED for an unknown, used or
   * expired ticket.
   */
  'session.beginWebEnrolment': {
    params: z.object({ ticket: z.string().min(1).max(256) }).strict(),
    result: z.object({ name: OperatorNameSchema, secret: z.string(), uri: z.string(), expiresAt: z.number().int() }).strict(),
  },
  /**
   * The first code of that enrolment (POST /session/enrolment): confirms it, signs in, and
   * answers the ten recovery codes, shown this once. Each code counts against the operator's
   * name and the address like a sign-in (SIGN_IN_THROTTLED); a wrong one is MFA_CODE_WRONG (5
   * end the ticket); the ticket signs in once.
   */
  'session.confirmWebEnrolment': {
    params: z.object({ ticket: z.string().min(1).max(256), code: MfaCodeSchema }).strict(),
    result: SessionSchema.extend({ recoveryCodes: z.array(z.string()) }),
  },
  /** "Sign in another way" on the forced enrolment (DELETE /session/enrolment): ends the ticket. */
  'session.cancelWebEnrolment': {
    params: z.object({ ticket: z.string().min(1).max(256) }).strict(),
    result: z.object({ cancelled: z.boolean() }).strict(),
  },
  'session.signOut': {
    params: z.object({}).strict(),
    result: SessionSchema,
  },
  /** Who this pipe acts as, and whether it must sign in. */
  'session.whoami': {
    params: z.object({}).strict(),
    result: SessionSchema,
  },
  /** Live web-mode sign-ins: the pipe's operator's own, or (`all`, an admin's) everyone's. */
  'sessions.list': {
    params: z.object({ all: z.boolean().default(false) }).strict(),
    result: z.array(WebSessionSchema),
  },
  /** Ends a web-mode sign-in: one's own, or (an admin's) anyone's; its pipes act as no one from their next call. */
  'sessions.revoke': {
    params: z.object({ id: z.number().int().positive() }).strict(),
    result: z.object({ revoked: z.number().int() }),
  },
} as const;

/** Each action as the end of "a viewer may not ...". */
export const ACTION_WORDS: Readonly<Record<Action, string>> = {
  view: 'view this',
  logs: 'read logs',
  control: 'start, stop or restart processes',
  scale: 'scale processes',
  manifest: 'change a manifest',
  install: 'install',
  upgrade: 'upgrade installs',
  rollback: 'roll installs back',
  uninstall: 'uninstall',
  'trust-key': 'trust host or bundle keys',
  export: 'export',
  probe: 'probe hosts or run preflight checks',
  'manage-hosts': 'add, change or remove hosts',
  'import-bundle': 'import bundles',
  acknowledge: 'acknowledge alerts',
  draft: 'edit install drafts',
  unlock: 'unlock the vault',
  vault: "change the vault's passphrase",
  'manage-operators': 'manage operators',
  'sign-in': 'sign in',
};

/**
 * Why `role` may not take `action` (or any of several), as the UI says it beside disabled
 * controls: "a viewer, and a viewer may not roll installs back, nor uninstall" (the words
 * of one action may hold commas and "or" already).
 */
export function roleRefusal(role: Role, action: Action | readonly Action[]): string {
  const listed = (typeof action === 'string' ? [action] : action).map((a) => ACTION_WORDS[a]).join(', nor ');
  return `${article(role)} ${role}, and ${article(role)} ${role} may not ${listed}`;
}

function article(role: Role): string {
  return role === 'admin' || role === 'operator' ? 'an' : 'a';
}

/**
 * The backend's request to the desktop shell to open the provider's sign-in page in the
 * system browser (session.signInWithProvider, RFC 8252). Only http(s) URLs: the shell opens
 * nothing else (a `file:` or custom scheme could start a program).
 */
export const OpenExternalRequestSchema = z.object({
  type: z.literal('open-external'),
  url: z
    .string()
    .max(8192)
    .refine((text) => /^https?:\/\//i.test(text) && URL.canParse(text), 'an http or https URL'),
});
export type OpenExternalRequest = z.infer<typeof OpenExternalRequestSchema>;
