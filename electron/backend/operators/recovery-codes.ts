import { createHash, randomBytes } from 'node:crypto';

/** How many recovery codes an enrolment hands out, each good for one sign-in or step-up. */
export const RECOVERY_CODE_COUNT = 10;

/** Letters and digits that cannot be mistaken for one another when read off paper (no 0/O, 1/I/L). */
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const GROUPS = 3;
const GROUP_LENGTH = 4;

/**
 * Ten new codes as the operator reads them (`ABCD-EFGH-JKMN`: 12 of 31 symbols, about 59 bits
 * each). Random enough that a fast hash is what keeps them: no one guesses one offline.
 */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const bytes = randomBytes(GROUPS * GROUP_LENGTH);
    const symbols = [...bytes].map((byte) => ALPHABET[byte % ALPHABET.length]!);
    return Array.from({ length: GROUPS }, (_, group) => symbols.slice(group * GROUP_LENGTH, (group + 1) * GROUP_LENGTH).join('')).join('-');
  });
}

/** Whether `input` has a recovery code's shape (dashes, spaces and case aside), rather than a TOTP code's. */
export function looksLikeRecoveryCode(input: string): boolean {
  return normalized(input).length === GROUPS * GROUP_LENGTH;
}

/** The hash stored for a code, salted with the operator's id: the same code of two operators hashes apart. */
export function recoveryCodeHash(operatorId: number, input: string): Buffer {
  return createHash('sha256')
    .update(`sutazai-recovery-v1:${operatorId}:${normalized(input)}`)
    .digest();
}

function normalized(input: string): string {
  return input.toUpperCase().replace(/[\s-]+/g, '');
}
