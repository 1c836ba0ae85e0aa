import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Client } from 'ssh2';
import type { ConnectDeadline } from './connect-deadline';
import { openSshHop, type HopLogin } from './open-ssh-hop';
import { prepareLogin } from './prepare-login';
import { connectCancelledError, connectTimeoutError, forwardFailureToApiError } from './ssh-errors';
import { endpointOf, type SshEndpoint } from './ssh-endpoint';
import type { SshTarget } from './ssh-target';

/** A host to reach, possibly through a chain of jump hosts. */
export type Reachable = Pick<SshTarget, 'name' | 'address' | 'port' | 'jump'>;

export interface HopChainContext {
  deadline: ConnectDeadline;
  /** Every client opened so far, innermost (nearest the target) first; the caller closes them. */
  opened: Client[];
  logins: Map<SshTarget, HopLogin>;
  trace?: (line: string) => void;
}

/**
 * Prepares the login of `target` (when given) and of every jump host under it, before
 * anything touches the network: a bad key file anywhere in the chain fails first.
 */
export async function prepareChainLogins(host: Reachable, target: SshTarget | null): Promise<Map<SshTarget, HopLogin>> {
  const logins = new Map<SshTarget, HopLogin>();
  if (target !== null) logins.set(target, await prepareLogin(endpointOf(target), target.user, target.credentials));
  let forName = host.name;
  for (let jump = host.jump; jump; jump = jump.jump) {
    logins.set(jump, await prepareLogin(endpointOf(jump, forName), jump.user, jump.credentials));
    forName = jump.name;
  }
  return logins;
}

/** A stream to `host`'s SSH port: TCP, or a channel through its (logged-in) jump hosts. */
export async function openStreamTo(host: Reachable, context: HopChainContext): Promise<{ sock: Duplex; jump?: SshEndpoint }> {
  if (context.deadline.signal.aborted) {
    // Cancelled (or out of time) before the first packet: do not dial at all.
    throw context.deadline.cancelled
      ? connectCancelledError(endpointOf(host))
      : connectTimeoutError(endpointOf(host), 'connecting', context.deadline.timeoutMs);
  }
  if (!host.jump) return { sock: net.connect({ host: host.address, port: host.port }) };
  const jump = host.jump;
  const jumpEndpoint = endpointOf(jump, host.name);
  const login = context.logins.get(jump);
  if (login === undefined) throw new Error(`no prepared login for jump host ${jump.name}`);
  const below = await openStreamTo(jump, context);
  const jumpClient = await openSshHop(
    { endpoint: jumpEndpoint, deadline: context.deadline, ...below, ...traced(context) },
    jump.pinned,
    login,
  );
  context.opened.unshift(jumpClient);
  return { sock: await forwardThrough(jumpClient, jumpEndpoint, endpointOf(host), context.deadline), jump: jumpEndpoint };
}

function traced(context: HopChainContext): { trace?: (line: string) => void } {
  return context.trace ? { trace: context.trace } : {};
}

/** Asks the jump host for a direct-tcpip channel to the target, within the deadline. */
function forwardThrough(jumpClient: Client, jump: SshEndpoint, target: SshEndpoint, deadline: ConnectDeadline): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const onDeadline = () => {
      if (settled) return;
      settled = true;
      reject(deadline.cancelled ? connectCancelledError(target) : connectTimeoutError(target, 'forwarding', deadline.timeoutMs, jump));
    };
    if (deadline.signal.aborted) {
      onDeadline();
      return;
    }
    deadline.signal.addEventListener('abort', onDeadline, { once: true });
    try {
      // The source address is what the jump host's log shows; it has no other meaning.
      jumpClient.forwardOut('127.0.0.1', 0, target.address, target.port, (error, stream) => {
        deadline.signal.removeEventListener('abort', onDeadline);
        if (settled) {
          stream?.destroy();
          return;
        }
        settled = true;
        if (error) reject(forwardFailureToApiError(error, target, jump));
        else resolve(stream);
      });
    } catch (error) {
      deadline.signal.removeEventListener('abort', onDeadline);
      settled = true;
      reject(forwardFailureToApiError(error, target, jump));
    }
  });
}
