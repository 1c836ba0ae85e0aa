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
  HOST_KEY: 6,
  CONNECTION: 7,
  SECRETS: 8,
  PREFLIGHT_WARN: 9,
  PREFLIGHT_FAIL: 10,
  BUNDLE_REFUSED: 11,
  INSTALL_FAILED: 12,
  ACCESS: 13,
  /** `sutazai audit verify`: the audit log is not as appended (an entry edited, removed or reordered). */
  AUDIT_BROKEN: 14,
} as const;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'BAD_PARAMS':
    case 'FLEET_SCALE_OUT_OF_RANGE':
    case 'LOG_SEARCH_INVALID':
      return EXIT.USAGE;
    case 'HOST_NOT_FOUND':
    case 'NOT_FOUND':
    case 'FLEET_HOST_NOT_INSTALLED':
    case 'FLEET_PROCESS_NOT_FOUND':
    case 'FLEET_LINK_REMOVED':
    case 'ALERT_NOT_FOUND':
      return EXIT.NOT_FOUND;
    case 'STORE_NEWER_VERSION':
    case 'STORE_CORRUPT':
    case 'STORE_UNREADABLE':
    case 'DATA_DIR_NOT_WRITABLE':
    case 'DATA_DIR_IN_USE':
    case 'BACKUP_OUT_UNWRITABLE':
    case 'BACKUP_INVALID':
    case 'BACKUP_FORMAT_NEWER':
    case 'RESTORE_TARGET_NOT_EMPTY':
      return EXIT.STORE;
    case 'PROBE_FAILED':
    case 'PROBE_OUTPUT_INVALID':
    case 'NO_FACTS':
      return EXIT.PROBE;
    case 'HOST_KEY_UNKNOWN':
    case 'HOST_KEY_MISMATCH':
      return EXIT.HOST_KEY;
    case 'ADDRESS_UNRESOLVED':
    case 'HOST_UNREACHABLE':
    case 'CONNECTION_REFUSED':
    case 'HANDSHAKE_TIMEOUT':
    case 'NO_SSH_GREETING':
    case 'AUTH_FAILED':
    case 'KEY_FILE_UNREADABLE':
    case 'KEY_PASSPHRASE_WRONG':
    case 'SSH_FAILED':
    case 'SSH_CHANNEL_REFUSED':
    case 'FLEET_LINK_DOWN':
      return EXIT.CONNECTION;
    case 'SECRETS_LOCKED':
    case 'SECRETS_PASSPHRASE_WRONG':
    case 'SECRETS_PASSPHRASE_WEAK':
      return EXIT.SECRETS;
    case 'HOST_NAME_TAKEN':
    case 'HOST_IN_USE':
    case 'HOST_IS_LOCAL':
    case 'HOST_JUMP_INVALID':
    case 'IMPORT_INVALID':
    case 'CONFIG_LAYER_UNREADABLE':
    case 'CONFIG_YAML_INVALID':
    case 'CONFIG_INVALID':
    case 'CONFIG_UNKNOWN_KEY':
    case 'CONFIG_ENV_INVALID':
    case 'CONFIG_UNSUPPORTED':
    case 'EVENTS_RETENTION_INVALID':
    case 'ALERT_RULE_INVALID':
      return EXIT.USAGE;
    case 'BUNDLE_CORRUPT':
    case 'BUNDLE_FILE_MISSING':
    case 'BUNDLE_UNEXPECTED_FILE':
    case 'BUNDLE_CHECKSUM_MISMATCH':
    case 'BUNDLE_SIGNATURE_INVALID':
    case 'BUNDLE_MANIFEST_INVALID':
    case 'BUNDLE_INCOMPATIBLE':
    case 'BUNDLE_KEY_UNKNOWN':
    case 'BUNDLE_VERSION_CONFLICT':
      return EXIT.BUNDLE_REFUSED;
    case 'BUNDLE_UNREADABLE':
    case 'SIGNING_KEY_INVALID':
      return EXIT.USAGE;
    case 'BUNDLE_IMPORT_FAILED':
      return EXIT.STORE;
    case 'CONFIG_BUNDLE_DAMAGED':
    case 'CONFIG_BUNDLE_TOO_LARGE':
    case 'CONFIG_BUNDLE_FORMAT_NEWER':
    case 'CONFIG_BUNDLE_EXPORTER_UNKNOWN':
    case 'CONFIG_IMPORT_NEWER_RELEASE':
    case 'CONFIG_IMPORT_BLOCKED':
      return EXIT.BUNDLE_REFUSED;
    case 'CONFIG_BUNDLE_PASSPHRASE_NEEDED':
    case 'CONFIG_BUNDLE_PASSPHRASE_WRONG':
      return EXIT.SECRETS;
    case 'CONFIG_BUNDLE_UNREADABLE':
    case 'CONFIG_EXPORT_UNWRITABLE':
    case 'CONFIG_BUNDLE_PASSPHRASE_WEAK':
    case 'CONFIG_EXPORT_INVALID':
      return EXIT.USAGE;
    case 'INSTALL_FILE_INVALID':
      return EXIT.USAGE;
    case 'INSTALL_PRIVILEGE_MISSING':
    case 'INSTALL_ARCH_UNSUPPORTED':
    case 'INSTALL_NO_SPACE':
    case 'INSTALL_UPLOAD_FAILED':
    case 'INSTALL_STEP_FAILED':
    case 'INSTALL_UNHEALTHY':
    case 'INSTALL_CONFLICT':
    case 'INSTALL_PORT_IN_USE':
    case 'INSTALL_ROLLED_BACK':
    case 'INSTALL_ROLLOUT_STOPPED':
    case 'INSTALL_ROLLBACK_FAILED':
    case 'INSTALL_CANCELLED':
    case 'INSTALL_INTERRUPTED':
      return EXIT.INSTALL_FAILED;
    case 'INSTALL_CANCEL_REFUSED':
    case 'INSTALL_UPGRADE_REFUSED':
    case 'INSTALL_DOWNGRADE_REFUSED':
      return EXIT.USAGE;
    case 'OPERATOR_NOT_FOUND':
      return EXIT.NOT_FOUND;
    case 'OPERATOR_NAME_TAKEN':
    case 'OPERATOR_LAST_ADMIN':
    case 'OPERATOR_PASSWORD_WEAK':
      return EXIT.USAGE;
    case 'MFA_NOT_ENROLLED':
    case 'MFA_ALREADY_ENROLLED':
      return EXIT.USAGE;
    case 'SIGN_IN_REQUIRED':
    case 'SIGN_IN_FAILED':
    case 'ACCESS_DENIED':
    case 'ACCESS_POLICY_DENIED':
    case 'MFA_REQUIRED':
    case 'MFA_STEP_UP_REQUIRED':
    case 'MFA_CODE_WRONG':
      return EXIT.ACCESS;
    default:
      return EXIT.FAILURE;
  }
}
