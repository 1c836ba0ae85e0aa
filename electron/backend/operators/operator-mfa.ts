import { ApiError } from '../../contract';
import type { SecretVault } from '../secrets/secret-vault';
import type { OperatorMfaRepo } from './operator-mfa-repo';
import { looksLikeRecoveryCode, newRecoveryCodes, recoveryCodeHash } from './recovery-codes';
import { newTotpSecret, totpStepOf, totpUri } from './totp';

/** The vault purpose TOTP secrets are sealed under: revealed for nothing else. */
const TOTP_PURPOSE = 'operator-totp';

export interface MfaState {
  /** A first code confirmed the enrolment: sign-in asks for a code. */
  enrolled: boolean;
  /** An enrolment awaits its first code. */
  pending: boolean;
  recoveryCodesLeft: number;
}

export interface Enrolment {
  /** The shared secret as base32 text, shown once (for typing into an app instead of scanning). */
  secret: string;
  /** The `otpauth://` URI the QR code carries. */
  uri: string;
}

/**
 * Two-factor sign-in for operators (issue 14, item 4): a TOTP secret sealed in the vault,
 * confirmed by a first valid code, ten one-time recovery codes, and the setting that asks
 * for a fresh code before admin actions. A code is accepted once: the same code again
 * within its window (or an older one) is refused.
 */
export interface OperatorMfa {
  state(operatorId: number): MfaState;
  enrolled(operatorId: number): boolean;
  /** A new secret for the operator; replaces an unconfirmed one, refused over a confirmed one (MFA_ALREADY_ENROLLED). */
  begin(operator: { id: number; name: string }): Enrolment;
  /** Confirms a pending enrolment with its first code (MFA_CODE_WRONG otherwise); the recovery codes, shown once. */
  confirm(operatorId: number, code: string): { recoveryCodes: string[] };
  /** Whether `code` is a TOTP code not used before or an unused recovery code of this enrolled operator; using it uses it up. */
  check(operatorId: number, code: string): boolean;
  /** Drops the operator's enrolment and recovery codes (an admin's reset, or the operator's removal). */
  reset(operatorId: number): void;
  stepUpRequired(): boolean;
  setStepUpRequired(required: boolean): void;
  /** Whether web mode for a team requires two-factor sign-in of every operator (web-enrolments.ts walks one without it through enrolment). */
  webRequired(): boolean;
  setWebRequired(required: boolean): void;
}

export function createOperatorMfa(deps: {
  repo: OperatorMfaRepo;
  vault: Pick<SecretVault, 'store' | 'reveal' | 'remove'>;
  now: () => number;
}): OperatorMfa {
  const { repo, vault, now } = deps;

  const secretOf = (secretId: number) => vault.reveal(secretId, TOTP_PURPOSE);
  const acceptTotp = (operatorId: number, secretId: number, code: string): boolean => {
    const step = totpStepOf(secretOf(secretId), code, now());
    return step !== null && repo.acceptStep(operatorId, step);
  };

  return {
    state(operatorId) {
      const totp = repo.totpOf(operatorId);
      return {
        enrolled: totp?.confirmed === true,
        pending: totp !== undefined && !totp.confirmed,
        recoveryCodesLeft: totp?.confirmed ? repo.recoveryCodesLeft(operatorId) : 0,
      };
    },
    enrolled: (operatorId) => repo.totpOf(operatorId)?.confirmed === true,
    begin({ id, name }) {
      const secret = newTotpSecret();
      repo.transaction(() => {
        if (repo.totpOf(id)?.confirmed) throw alreadyEnrolled(name);
        const replaced = repo.startEnrolment(id, vault.store(TOTP_PURPOSE, secret, now()), now());
        if (replaced !== undefined) vault.remove(replaced);
      });
      return { secret, uri: totpUri(secret, name) };
    },
    confirm(operatorId, code) {
      return repo.transaction(() => {
        const totp = repo.totpOf(operatorId);
        // Confirmed already: starting again would be refused too, so the remedy is the admin's reset.
        if (totp?.confirmed) throw alreadyEnrolled(undefined);
        if (!totp)
          throw new ApiError(
            'MFA_NOT_ENROLLED',
            'No two-factor enrolment awaits a code.',
            'Start the enrolment again from My account on the Operators page.',
            { cliRemedy: 'Start it with `sutazai operators mfa enrol NAME`.' },
          );
        if (!acceptTotp(operatorId, totp.secretId, code)) throw wrongCode();
        const recoveryCodes = newRecoveryCodes();
        repo.replaceRecoveryCodes(
          operatorId,
          recoveryCodes.map((recovery) => recoveryCodeHash(operatorId, recovery)),
        );
        repo.confirm(operatorId, now());
        return { recoveryCodes };
      });
    },
    check(operatorId, code) {
      return repo.transaction(() => {
        const totp = repo.totpOf(operatorId);
        if (!totp?.confirmed) return false;
        if (looksLikeRecoveryCode(code)) return repo.useRecoveryCode(operatorId, recoveryCodeHash(operatorId, code), now());
        return acceptTotp(operatorId, totp.secretId, code);
      });
    },
    reset(operatorId) {
      repo.transaction(() => {
        const secretId = repo.forget(operatorId);
        if (secretId !== undefined) vault.remove(secretId);
      });
    },
    stepUpRequired: () => repo.stepUpRequired(),
    setStepUpRequired: (required) => repo.setStepUpRequired(required, now()),
    webRequired: () => repo.webRequired(),
    setWebRequired: (required) => repo.setWebRequired(required, now()),
  };
}

/** Enrolling or confirming over a confirmed enrolment (`name` where the caller knows it). */
function alreadyEnrolled(name: string | undefined): ApiError {
  return new ApiError(
    'MFA_ALREADY_ENROLLED',
    `${name ?? 'This operator'} has two-factor sign-in already.`,
    'An admin resets it on the Operators page; then enrol again.',
    { cliRemedy: `An admin resets it with \`sutazai operators mfa reset ${name ?? 'NAME'}\`; then enrol again.` },
  );
}

/** A wrong or reused code where no more needs hiding (the operator is signed in already, or confirming). */
export function wrongCode(): ApiError {
  return new ApiError(
    'MFA_CODE_WRONG',
    'That code is not valid now, or it was used already.',
    'Type the code your authenticator app shows now (wait for the next one if you just used this one), or one of your unused recovery codes; check the clock of the device it runs on.',
  );
}
