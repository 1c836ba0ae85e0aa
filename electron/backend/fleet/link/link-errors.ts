import { ApiError } from '../../../contract';
import type { LinkState, LinkTarget } from './link-types';

/** Every way a link refuses or explains itself, one code per meaning. */

function nameOf(target: LinkTarget): string {
  return `host ${target.hostName} (install ${target.installName})`;
}

/** A call borrowed the link's connection while the link is connecting or offline: why, and what to do, are the link's reason's. */
export function linkDownError(state: LinkState): ApiError {
  const message = `The link to ${nameOf(state.target)} is ${state.state}${state.reason === null ? '.' : `: ${state.reason.message}`}`;
  if (state.reason === null)
    return new ApiError('FLEET_LINK_DOWN', message, 'Wait until the Fleet page shows the link online, then retry.');
  // From the reason's body, so that whatever else it says (the command line's remedy) is said too.
  return ApiError.fromBody({ ...state.reason.toBody(), code: 'FLEET_LINK_DOWN', message });
}

/** A link asked for by a host id that has none: the host is in no recorded install (or not yet refreshed into one). */
export function hostNotLinkedError(hostId: number): ApiError {
  return new ApiError(
    'FLEET_HOST_NOT_INSTALLED',
    `Host #${hostId} is in no install, so there is no link to a runtime on it.`,
    'Open an install on the Installs page and pick one of its hosts, or install SutazAI on this host first.',
  );
}

/** The host left its install (uninstalled, or the install removed): its link was stopped for good. */
export function linkRemovedError(target: LinkTarget): ApiError {
  return new ApiError(
    'FLEET_LINK_REMOVED',
    `${sentence(nameOf(target))} is no longer installed, so its link was stopped.`,
    'Nothing to do; install SutazAI on the host again to watch and steer it.',
  );
}

/** What a link says while the vault is locked: the operator certificate is signed by the install's sealed CA key. */
export const LINK_WAITS_FOR_VAULT = 'The link connects by itself once the vault is unlocked.';

/** A consumer's stream failed while the link was up: its own error, said to be that consumer's. */
export function consumerFailedError(consumer: string, target: LinkTarget, error: unknown): ApiError {
  const cause = { cause: error };
  if (error instanceof ApiError) {
    const said = ApiError.fromBody({ ...error.toBody(), message: `The ${consumer} stream of ${nameOf(target)} failed: ${error.message}` });
    return Object.assign(said, cause);
  }
  return new ApiError(
    'INTERNAL',
    `The ${consumer} stream of ${nameOf(target)} failed: ${error instanceof Error ? error.message : String(error)}`,
    'It is retried by itself; if it keeps failing, send the app log with your report.',
    cause,
  );
}

/** Anything a connection attempt threw, as the reason the link is offline. */
export function connectFailedError(target: LinkTarget, error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(
    'INTERNAL',
    `Connecting to the runtime of ${nameOf(target)} failed: ${error instanceof Error ? error.message : String(error)}`,
    'It is retried by itself; if it keeps failing, send the app log with your report.',
    { cause: error },
  );
}

function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
