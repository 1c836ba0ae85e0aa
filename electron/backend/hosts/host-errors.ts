import { ApiError } from '../../contract';
import type { ScannedHostKey } from './ssh/connect-ssh';

/**
 * Every way the inventory refuses a request, one code per meaning (ssh-errors.ts is the
 * model): the message names the host, the remedy says what to do.
 */

export function hostNotFoundError(ref: number | string): ApiError {
  return new ApiError(
    'HOST_NOT_FOUND',
    `There is no host "${ref}" in the inventory.`,
    'Choose the host on the Hosts page; it may have been removed.',
    { cliRemedy: 'List the hosts with `sutazai hosts list` and use a name or id from there.' },
  );
}

export function jumpHostNotFoundError(jumpHostId: number): ApiError {
  return new ApiError(
    'HOST_NOT_FOUND',
    `Jump host ${jumpHostId} is not in the inventory.`,
    'Add the jump host first, then point this host at it.',
  );
}

export function importJumpHostNotFoundError(jumpHostName: string): ApiError {
  return new ApiError(
    'HOST_NOT_FOUND',
    `jump host ${jumpHostName} is not in the inventory`,
    'List the jump host before the hosts that use it, or add it first.',
  );
}

/** What a browser's person does instead of a key file or the agent of the backend's machine. */
const BROWSER_LOGIN_REMEDY =
  'Leave keyPath out of the list (the host comes in waiting for its key), then paste its private key in its settings (Edit, Login: Private key, Paste key); or import the list with the sutazai command, or the desktop app, on the backend machine.';

/** A host list from a browser (web mode) naming a key file on the backend's machine: that row is not imported. */
export function importKeyFileRefusedError(keyPath: string): ApiError {
  return new ApiError(
    'METHOD_NOT_ON_THIS_PIPE',
    `keyPath ${JSON.stringify(keyPath.slice(0, 200))} names a file on the backend's machine, which a browser (web mode) may not`,
    BROWSER_LOGIN_REMEDY,
  );
}

/**
 * A host list from a browser (web mode) whose row says `auth: agent`: that agent is the
 * backend's (its SSH_AUTH_SOCK, the keys of whoever started the backend), not the browser's
 * person's. That row is not imported.
 */
export function importAgentRefusedError(): ApiError {
  return new ApiError(
    'METHOD_NOT_ON_THIS_PIPE',
    "auth: agent names the SSH agent of the backend's machine, which a browser (web mode) may not use",
    'Leave auth out of the list (the host comes in waiting for its key), then paste its private key in its settings (Edit, Login: Private key, Paste key); or import the list with the sutazai command, or the desktop app, on the backend machine.',
  );
}

export function jumpHostGoneError(hostName: string): ApiError {
  return new ApiError(
    'HOST_NOT_FOUND',
    `The jump host of ${hostName} is no longer in the inventory.`,
    `Edit ${hostName} and choose another jump host, or none.`,
  );
}

/** The machine this app runs on is in the inventory too, but is not an SSH host to edit, trust, remove or connect to. */
export function hostIsLocalError(hostName: string): ApiError {
  return new ApiError(
    'HOST_IS_LOCAL',
    `Host ${hostName} is the machine this app runs on; it is not edited, trusted or removed, and needs no SSH.`,
    'Pick an SSH host.',
  );
}

export function hostNameTakenError(name: string, address: string): ApiError {
  return new ApiError(
    'HOST_NAME_TAKEN',
    `A host named ${name} is already in the inventory (address ${address}).`,
    'Choose another name, or edit the existing host.',
  );
}

export function localJumpHostError(): ApiError {
  return new ApiError(
    'HOST_JUMP_INVALID',
    'The local machine cannot be a jump host.',
    'Leave the jump host empty to connect directly from this machine.',
  );
}

export function jumpLoopError(): ApiError {
  return new ApiError(
    'HOST_JUMP_INVALID',
    'A host cannot reach itself through its own jump chain.',
    'Choose a jump host that does not go through this host.',
  );
}

export function jumpChainTooLongError(maxDepth: number, hostName?: string): ApiError {
  return new ApiError(
    'HOST_JUMP_INVALID',
    hostName === undefined
      ? `Jump chains are limited to ${maxDepth} hops.`
      : `The jump-host chain to ${hostName} is longer than ${maxDepth} hops.`,
    hostName === undefined ? 'Choose a jump host closer to this machine.' : 'Point the host at a jump host that reaches it directly.',
  );
}

export function hostInUseError(hostName: string, dependents: readonly string[]): ApiError {
  return new ApiError(
    'HOST_IN_USE',
    `${hostName} is the jump host of ${dependents.join(', ')}.`,
    'Point those hosts at another jump host (or none) first, then remove it.',
  );
}

/** The key a host presents is not the one the operator confirmed; `outcome` says what was (not) done. */
export function confirmedKeyMismatchError(
  host: { name: string; address: string; port: number },
  presented: ScannedHostKey,
  confirmed: string,
  outcome: string,
): ApiError {
  return new ApiError(
    'HOST_KEY_MISMATCH',
    `${host.name} (${host.address}:${host.port}) presents ${presented.keyType} ${presented.fingerprint}, not the ${confirmed} you confirmed${outcome}.`,
    'Compare the fingerprint with the one the machine shows (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on its console) and confirm the one it really has.',
  );
}

export function probeFailedError(hostName: string, cause: unknown): ApiError {
  return new ApiError(
    'PROBE_FAILED',
    `Probing ${hostName} failed: ${(cause as Error)?.message ?? String(cause)}.`,
    'Try again; if it keeps failing, send the app log with your report.',
    { cause },
  );
}
