import { z } from 'zod';

/**
 * Every failure an operator or a client can meet carries a stable code, a one-line
 * message saying what happened, and a remedy saying what to do about it.
 */
export const ERROR_CODES = [
  // Messages crossing a process boundary.
  'BAD_JSON',
  'BAD_MESSAGE',
  'MESSAGE_TOO_LARGE',
  'UNKNOWN_METHOD',
  'UNKNOWN_EVENT',
  'BAD_PARAMS',
  'UNKNOWN_SUBSCRIPTION',
  'UNAUTHORIZED',
  'METHOD_NOT_ON_THIS_PIPE',
  'DISCONNECTED',
  'TIMEOUT',
  // Store and data directory.
  'STORE_NEWER_VERSION',
  'STORE_CORRUPT',
  'STORE_UNREADABLE',
  'DATA_DIR_NOT_WRITABLE',
  'DATA_DIR_IN_USE',
  'STORE_MIGRATION_FAILED',
  'STORE_WRITE_FAILED',
  // Backup and restore of the control center (issue 15, item 5).
  /** The backup's file exists already or its folder cannot be written; nothing is ever overwritten. */
  'BACKUP_OUT_UNWRITABLE',
  /** Not a backup, truncated, or a member that differs from its manifest (size, SHA-256, row counts). */
  'BACKUP_INVALID',
  /** A backup format newer than this app reads (a newer schema inside is STORE_NEWER_VERSION). */
  'BACKUP_FORMAT_NEWER',
  /** Restore onto a data directory that holds something, without --force. */
  'RESTORE_TARGET_NOT_EMPTY',
  'RESTORE_INTERRUPTED',
  /** A replaced entry (the database, bundles/) is a mount point of its own, or a mount was seen only when its rename failed: nothing moved. */
  'RESTORE_TARGET_IS_MOUNT_POINT',
  /** The disk where the restored copy is staged has no room for it beside the current data: nothing was restored. */
  'RESTORE_NO_SPACE',
  // Hosts and facts.
  'NOT_FOUND',
  'HOST_NOT_FOUND',
  'HOST_NAME_TAKEN',
  'HOST_IN_USE',
  /** The host is the machine this app runs on: it is not edited, trusted, removed or reached over SSH. */
  'HOST_IS_LOCAL',
  /** A jump host that cannot carry the connection: the local machine, a loop back to the host, too many hops. */
  'HOST_JUMP_INVALID',
  'IMPORT_INVALID',
  'PROBE_FAILED',
  'PROBE_OUTPUT_INVALID',
  'NO_FACTS',
  // SSH: each way a connection can fail is its own code, with its own remedy.
  'ADDRESS_UNRESOLVED',
  'HOST_UNREACHABLE',
  'CONNECTION_REFUSED',
  'HANDSHAKE_TIMEOUT',
  'NO_SSH_GREETING',
  'HOST_KEY_UNKNOWN',
  'HOST_KEY_MISMATCH',
  'AUTH_FAILED',
  'KEY_FILE_UNREADABLE',
  'KEY_PASSPHRASE_WRONG',
  /** A private key sent as text (hosts.add / update, keyText) is malformed, public-only or too big. */
  'KEY_TEXT_INVALID',
  /** An encrypted private key was not decrypted: its worker thread ran out of time or stopped (issue 14). */
  'KEY_DECRYPT_FAILED',
  /** An encrypted private key was not decrypted: too many keys are waiting for the key worker, or the backend is stopping. */
  'KEY_DECRYPT_BUSY',
  'SSH_FAILED',
  'SSH_CHANNEL_REFUSED',
  // Sealed secrets.
  'SECRETS_LOCKED',
  'SECRETS_PASSPHRASE_WRONG',
  'SECRETS_PASSPHRASE_WEAK',
  // The install's certificate authority and the certificates it issues.
  'PKI_NAME_INVALID',
  'PKI_CERT_INVALID',
  'PKI_CERT_EXPIRED',
  'PKI_CERT_NOT_YET_VALID',
  'PKI_KEY_MISMATCH',
  // The install's CA key is not in the vault (its secret row is gone): nothing can be signed.
  'PKI_CA_KEY_MISSING',
  // The runtime API on a managed machine (through its SSH tunnel).
  'RUNTIME_UNREACHABLE',
  'RUNTIME_TLS_FAILED',
  'RUNTIME_PERMISSION_DENIED',
  'RUNTIME_CALL_FAILED',
  // Alerts: a rule file or rule that did not load (file:line:column), an alert id that names none.
  'ALERT_RULE_INVALID',
  'ALERT_NOT_FOUND',
  // Steering a host's processes and reading their logs (through the host's link; a host in no install is FLEET_HOST_NOT_INSTALLED).
  /** A process or instance the host's runtime does not run. */
  'FLEET_PROCESS_NOT_FOUND',
  /** A scale to a number of replicas outside the supported range. */
  'FLEET_SCALE_OUT_OF_RANGE',
  /** A log search pattern that is not a regular expression this app matches (syntax, back-references, look-around, too large). */
  'LOG_SEARCH_INVALID',
  /** A log search that would take more work than one answer is allowed (a large pattern over many long lines). */
  'LOG_SEARCH_TOO_COSTLY',
  // Fleet events: a retention setting out of its range (refused, never clamped).
  'EVENTS_RETENTION_INVALID',
  // Metrics: a tier's retention setting that would not act as written (out of its bounds, or shorter than a finer tier's).
  'METRICS_RETENTION_INVALID',
  // The fleet's links (one SSH session, tunnel and gRPC channel per installed host).
  /** The host is in no recorded install, so it has no runtime this app steers. */
  'FLEET_HOST_NOT_INSTALLED',
  /** A call needs the host's link, and the link is connecting or offline (its own reason and remedy are said). */
  'FLEET_LINK_DOWN',
  /** The host left its install (uninstalled, the install removed), so its link was stopped for good. */
  'FLEET_LINK_REMOVED',
  /** A runtime's own audit log (read over SSH by `audit verify --host`) is larger than the control center reads. */
  'AUDIT_HOST_LOG_TOO_LARGE',
  /** A runtime's own audit log could not be read on its host (missing state_dir, no permission). */
  'AUDIT_HOST_LOG_UNREADABLE',
  /**
   * A runtime's own audit log no longer holds the newest entry the control center last found
   * intact there (its implicit anchor): entries were cut off its end, or rewritten from there on.
   */
  'AUDIT_HOST_TRUNCATED',
  /**
   * The entry remembered of a runtime's log was dropped by its keep cap together with later
   * entries this control center never saw: a drop the log records cannot vouch for those (root
   * can write one by hand), so the read is not taken as intact until an admin accepts it.
   */
  'AUDIT_HOST_UNSEEN_DROPPED',
  /** The runtime on the host is another one (reinstalled) and its log does not hold the entry remembered of the one before. */
  'AUDIT_HOST_RUNTIME_REPLACED',
  /** An admin's accepted reset was refused: the log is not intact by itself, or the entry named is not in it. */
  'AUDIT_HOST_RESET_REFUSED',
  /** No host of the install serves its runtime's /metrics beyond loopback, so a site's Prometheus has nothing to scrape. */
  'PROMETHEUS_TARGETS_NONE',
  // Release bundles: building, verifying and importing them.
  'BUNDLE_UNREADABLE',
  'BUNDLE_CORRUPT',
  'BUNDLE_FILE_MISSING',
  'BUNDLE_UNEXPECTED_FILE',
  'BUNDLE_CHECKSUM_MISMATCH',
  'BUNDLE_SIGNATURE_INVALID',
  'BUNDLE_MANIFEST_INVALID',
  'BUNDLE_INCOMPATIBLE',
  'BUNDLE_KEY_UNKNOWN',
  'BUNDLE_VERSION_CONFLICT',
  'BUNDLE_IMPORT_FAILED',
  'BUNDLE_BUILD_FAILED',
  'SIGNING_KEY_INVALID',
  // Configuration bundles and YAML exports (issue 15): a refused import has changed nothing.
  'CONFIG_BUNDLE_UNREADABLE',
  'CONFIG_EXPORT_UNWRITABLE',
  /** Truncated, not an archive of ours, a file added or altered, or a signature that does not match. */
  'CONFIG_BUNDLE_DAMAGED',
  'CONFIG_BUNDLE_TOO_LARGE',
  'CONFIG_BUNDLE_FORMAT_NEWER',
  /** Signed by a control center whose key this one has not trusted (confirmed by fingerprint, like a host key). */
  'CONFIG_BUNDLE_EXPORTER_UNKNOWN',
  /** The bundle's secrets are sealed and no export passphrase was given (or their import was not declined). */
  'CONFIG_BUNDLE_PASSPHRASE_NEEDED',
  'CONFIG_BUNDLE_PASSPHRASE_WRONG',
  'CONFIG_BUNDLE_PASSPHRASE_WEAK',
  /** A YAML export (edited by hand) with a syntax or schema error, named by file:line:column. */
  'CONFIG_EXPORT_INVALID',
  /** An install of the same name here runs a newer release than the file describes. */
  'CONFIG_IMPORT_NEWER_RELEASE',
  /** A chosen item needs something this store lacks (its release bundle, its hosts). */
  'CONFIG_IMPORT_BLOCKED',
  /** The file's SHA-256 is not the one its review reported: it changed (or was swapped) since. */
  'CONFIG_IMPORT_FILE_CHANGED',
  /** A configuration file uploaded (web mode) is not held for this session: imported already, expired, or another session's. */
  'CONFIG_UPLOAD_GONE',
  // The layered install configuration: each error names file:line:column and the key.
  'CONFIG_LAYER_UNREADABLE',
  'CONFIG_YAML_INVALID',
  'CONFIG_INVALID',
  'CONFIG_UNKNOWN_KEY',
  'CONFIG_ENV_INVALID',
  /** A value the schema knows but nothing acts on yet (a system_integration choice such as oauth2): refused, never ignored. */
  'CONFIG_UNSUPPORTED',
  // Installing a release on hosts (install file, plan, apply).
  'INSTALL_FILE_INVALID',
  'INSTALL_PRIVILEGE_MISSING',
  'INSTALL_ARCH_UNSUPPORTED',
  'INSTALL_NO_SPACE',
  'INSTALL_UPLOAD_FAILED',
  'INSTALL_STEP_FAILED',
  'INSTALL_UNHEALTHY',
  'INSTALL_CONFLICT',
  'INSTALL_PORT_IN_USE',
  // Upgrades and rollbacks: a host returned to its release, a rollout stopped, a return that failed.
  'INSTALL_ROLLED_BACK',
  'INSTALL_ROLLOUT_STOPPED',
  'INSTALL_ROLLBACK_FAILED',
  // Install jobs: cancelled by the operator, cut off by a stopped backend, an operation refused on a recorded install.
  'INSTALL_CANCELLED',
  'INSTALL_INTERRUPTED',
  'INSTALL_CANCEL_REFUSED',
  'INSTALL_UPGRADE_REFUSED',
  'INSTALL_DOWNGRADE_REFUSED',
  // Operators and what each may do (issue 14).
  /** Operators exist and this pipe has not signed in as one: only app.info and session.* are answered. */
  'SIGN_IN_REQUIRED',
  /** The name and password match no enabled operator (which of the two is wrong is not said). */
  'SIGN_IN_FAILED',
  /** Too many failed sign-ins or two-factor codes for this name or from this address: wait (the message says how long). */
  'SIGN_IN_THROTTLED',
  /** Web mode would listen beyond loopback without TLS, or its certificate or names are unusable. */
  'WEB_TLS_REQUIRED',
  /** The web session (the browser's sign-in) is unknown, ended, idle too long or past its absolute expiry. */
  'WEB_SESSION_ENDED',
  /** authentication_method: oauth2: the site's OpenID Connect provider (discovery, keys, token endpoint) could not be read. */
  'OIDC_PROVIDER_UNAVAILABLE',
  /** The provider's key set (fetched or a pinned jwks_file) holds no usable public signing key, or a private one. */
  'OIDC_KEYS_INVALID',
  /** Sign-in through the provider: the state is unknown, used, expired or another browser's; the code was refused; the ID token does not verify. */
  'OIDC_SIGN_IN_FAILED',
  /** The provider signed in someone who is no enabled operator here (unknown name, disabled): the message says which. */
  'OIDC_OPERATOR_REFUSED',
  /** Sign-in through the provider is off (no sign-in-provider.yaml), its settings do not load, or this pipe cannot open a browser. */
  'OIDC_SIGN_IN_NOT_CONFIGURED',
  /** The signed-in operator's role does not allow the method's action. */
  'ACCESS_DENIED',
  /** The role allows it, and the install's access policy (access_control: abac) does not: a deny rule, no allow, or the operator's own attributes. */
  'ACCESS_POLICY_DENIED',
  /**
   * An access policy file or rule did not load (file:line:column): while any does not, every
   * action the policy judges is refused (fail closed), in the control center and the runtimes.
   */
  'ACCESS_POLICY_INVALID',
  /** An access policy rule selects no install, host, process or operator that exists (a warning). */
  'ACCESS_POLICY_UNMATCHED',
  'OPERATOR_NOT_FOUND',
  'OPERATOR_NAME_TAKEN',
  /** The change would leave operators with no enabled admin (the first operator must be an admin). */
  'OPERATOR_LAST_ADMIN',
  /** A new operator password shorter than the minimum. */
  'OPERATOR_PASSWORD_WEAK',
  /** An action for an operator was not sent: the runtime has not been told of the operator or the install's current token key (never sent as the control center). */
  'OPERATOR_CREDENTIAL_NOT_READY',
  /** No operator certificate with that serial (issue 14 item 2, mtls). */
  'OPERATOR_CERTIFICATE_NOT_FOUND',
  /** `operators certificate issue` could not write its files (disk full, folder changed): none is left and the certificate is revoked. */
  'OPERATOR_CERTIFICATE_NOT_WRITTEN',
  /** The name and password are right and the operator has two-factor sign-in: a code is needed too. */
  'MFA_REQUIRED',
  /** Step-up is on and this pipe has no code typed within the last minutes: an admin action needs one. */
  'MFA_STEP_UP_REQUIRED',
  /** A code typed to confirm an enrolment or to step up is wrong or was used already (at sign-in: SIGN_IN_FAILED). */
  'MFA_CODE_WRONG',
  /** The operator has no two-factor enrolment for this (confirm with none pending; step-up turned on by one without). */
  'MFA_NOT_ENROLLED',
  /** Enrolment (or a first code) over a confirmed one: an admin resets it first. */
  'MFA_ALREADY_ENROLLED',
  /**
   * Web mode for a team requires two-factor sign-in: this browser's set-up at sign-in is unknown,
   * finished, out of tries or older than 5 minutes, or its operator changed since (sign in again).
   */
  'MFA_ENROLMENT_ENDED',
  // Support bundles (issue 15, item 4).
  /** An operator's redaction rule is not a pattern the linear matcher takes. */
  'SUPPORT_RULE_INVALID',
  'SUPPORT_RULE_TOO_COSTLY',
  /** The collection a preview or save names is no longer held (expired, pushed out, or the backend restarted). */
  'SUPPORT_PREVIEW_EXPIRED',
  /** A bundle uploaded to be analyzed (web mode) is not held for this session: taken already, expired, or another session's. */
  'SUPPORT_UPLOAD_GONE',
  'SUPPORT_OUTPUT_EXISTS',
  /** Not a support bundle, or a damaged, cut or altered one. */
  'SUPPORT_BUNDLE_INVALID',
  'SUPPORT_BUNDLE_TOO_LARGE',
  'SUPPORT_BUNDLE_NEWER',
  // Uploads from a browser (web mode, POST /upload): support bundles, configuration files, release bundles.
  /** An upload while the same session's last one is still being received, or too many are at once; or one held upload used by two calls at once. */
  'UPLOAD_BUSY',
  /** Larger than its kind allows. */
  'UPLOAD_TOO_LARGE',
  /** Sent without a Content-Length (chunked): its size must be known before a byte is kept. */
  'UPLOAD_LENGTH_REQUIRED',
  /** Uploads held and being received, all sessions together, would pass the byte budget. */
  'UPLOAD_BUDGET_FULL',
  /** An upload from a page that is not this server's own (its Origin). */
  'UPLOAD_ORIGIN_REFUSED',
  /** This server takes no uploads (it was started without a place for them). */
  'UPLOADS_UNAVAILABLE',
  /** The sender sent too slowly for too long (a stalled or trickling upload holds a place others wait for). */
  'UPLOAD_TOO_SLOW',
  /** The control center's disk has no room for it (checked first, and when a write finds the disk full). */
  'UPLOAD_NO_SPACE',
  /** The sender stopped, or sent more or less than it said. */
  'UPLOAD_INCOMPLETE',
  'UPLOAD_FAILED',
  /** A release bundle uploaded (web mode) is not held for this session: imported already, expired, or another session's. */
  'BUNDLE_UPLOAD_GONE',
  // Anything we did not foresee; the log has the details.
  'INTERNAL',
] as const;

export const ErrorCodeSchema = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

export const ApiErrorBodySchema = z.object({
  code: ErrorCodeSchema,
  message: z.string(),
  /** What to do, in the app's words: pages and buttons, never a command line or an API method. */
  remedy: z.string(),
  /** The same in the command line's words (`sutazai ...` and its flags), where they differ; the CLI prints it instead of remedy. */
  cliRemedy: z.string().optional(),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBodySchema>;

/** An error that is safe to show to the operator as it is. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly remedy: string;
  readonly cliRemedy: string | undefined;

  constructor(code: ErrorCode, message: string, remedy: string, options?: { cause?: unknown; cliRemedy?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApiError';
    this.code = code;
    this.remedy = remedy;
    this.cliRemedy = options?.cliRemedy;
  }

  toBody(): ApiErrorBody {
    const body: ApiErrorBody = { code: this.code, message: this.message, remedy: this.remedy };
    if (this.cliRemedy !== undefined) body.cliRemedy = this.cliRemedy;
    return body;
  }

  static fromBody(body: ApiErrorBody): ApiError {
    return new ApiError(body.code, body.message, body.remedy, body.cliRemedy === undefined ? undefined : { cliRemedy: body.cliRemedy });
  }
}

/** The remedy for a reader at a terminal: the command line's own words where the error has them. */
export function remedyForCli(error: Pick<ApiErrorBody, 'remedy' | 'cliRemedy'>): string {
  return error.cliRemedy ?? error.remedy;
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError;
}
