import type { ErrorCode } from '../../contract';

/**
 * Exit codes scripts can branch on. 0 is success; each failure class has its own
 * number, documented in the README and in `sutazai help`.
 */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  STORE: 4,
  PROBE: 5,
} as const;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'BAD_PARAMS':
      return EXIT.USAGE;
    case 'HOST_NOT_FOUND':
    case 'NOT_FOUND':
      return EXIT.NOT_FOUND;
    case 'STORE_NEWER_VERSION':
    case 'STORE_CORRUPT':
    case 'STORE_UNREADABLE':
    case 'DATA_DIR_NOT_WRITABLE':
      return EXIT.STORE;
    case 'PROBE_FAILED':
    case 'NO_FACTS':
      return EXIT.PROBE;
    default:
      return EXIT.FAILURE;
  }
}
