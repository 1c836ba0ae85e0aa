import type { LastProbe } from '../../../electron/contract';

/** Short words for the status column; the full message and remedy go in the tooltip. */
const FAILURE_LABELS: Record<string, string> = {
  HOST_UNREACHABLE: 'Unreachable',
  ADDRESS_UNRESOLVED: 'Address unknown',
  CONNECTION_REFUSED: 'SSH refused',
  HANDSHAKE_TIMEOUT: 'No SSH answer',
  NO_SSH_GREETING: 'No SSH answer',
  AUTH_FAILED: 'Login failed',
  KEY_FILE_UNREADABLE: 'Key file unreadable',
  KEY_PASSPHRASE_WRONG: 'Key passphrase wrong',
  KEY_TEXT_INVALID: 'Key invalid',
  HOST_KEY_UNKNOWN: 'Key not trusted',
  HOST_KEY_MISMATCH: 'Host key changed',
  SECRETS_LOCKED: 'Secrets locked',
  PROBE_OUTPUT_INVALID: 'Probe output invalid',
};

export function probeFailureLabel(lastProbe: LastProbe | null): string | null {
  if (!lastProbe || lastProbe.ok || !lastProbe.error) return null;
  return FAILURE_LABELS[lastProbe.error.code] ?? 'Probe failed';
}
