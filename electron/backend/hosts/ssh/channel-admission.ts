import type { EventEmitter } from 'node:events';

/** How long a new session channel waits at most for the channels before it to be closed by the server. */
const CLOSE_WAIT_MS = 10_000;

/**
 * When a new session channel (a command, SFTP) may be opened on one connection, so that no
 * channel is fresh on the host (opened, its request not served yet) while another one's
 * process exits there. Dropbear (2022.83) runs its close check over every channel when a
 * child exits, takes a fresh channel (no process yet) for finished, sends its EOF and CLOSE,
 * and on the exec request that follows dies on an assertion (`!channel->sent_close`),
 * taking the whole connection with it; ssh2 reports "Unable to exec".
 *
 * Everywhere: a new channel waits until the server has closed the channels that are ending
 * (we closed them, or the server sent their EOF): it sends CHANNEL_CLOSE only after it has
 * reaped their process. On a server that needs it (`strict`: Dropbear) also: one channel is
 * opened at a time, and only once the commands before it (which end on their own at any
 * moment) are closed; a conversation (SFTP, a long command we end) may stay open meanwhile.
 */
export interface ChannelAdmission {
  /** Resolves at this channel's turn with `release`, to call once its open and request are answered (or failed). */
  admit(): Promise<() => void>;
  /** A session channel the server opened: a `command` ends on its own, a `conversation` when we end it. */
  opened(channel: EventEmitter, kind: 'command' | 'conversation'): void;
}

export function createChannelAdmission(strict: boolean): ChannelAdmission {
  const open = new Map<EventEmitter, 'command' | 'conversation'>();
  let queue: Promise<void> = Promise.resolve();

  const closedBefore = (): Promise<void> => {
    const waitFor = [...open].filter(([channel, kind]) => isEnding(channel) || (strict && kind === 'command')).map(([channel]) => channel);
    if (waitFor.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let left = waitFor.length;
      const timer = setTimeout(resolve, CLOSE_WAIT_MS);
      for (const channel of waitFor) {
        channel.once('close', () => {
          left -= 1;
          if (left > 0) return;
          clearTimeout(timer);
          resolve();
        });
      }
    });
  };

  return {
    admit() {
      if (!strict) return closedBefore().then(() => () => undefined);
      const previous = queue;
      let release: () => void = () => undefined;
      queue = new Promise<void>((resolve) => (release = resolve));
      return previous.then(closedBefore).then(() => release);
    },
    opened(channel, kind) {
      open.set(channel, kind);
      channel.once('close', () => open.delete(channel));
    },
  };
}

/** Dropbear: the server whose close check takes a fresh channel for finished. */
export function needsStrictChannelOrder(serverSoftware: string | undefined): boolean {
  return /^dropbear/i.test(serverSoftware ?? '');
}

/**
 * A session channel on its way out: we sent CHANNEL_CLOSE (an ended SFTP channel, a killed
 * command) or the server sent EOF (its process is ending), and the server's CHANNEL_CLOSE
 * has not come yet. Read from ssh2's channel state (Channel and SFTP alike), which it does not type.
 */
function isEnding(channel: EventEmitter): boolean {
  const { outgoing, incoming } = channel as { outgoing?: { state?: string }; incoming?: { state?: string } };
  return outgoing?.state === 'closing' || outgoing?.state === 'closed' || incoming?.state === 'eof' || incoming?.state === 'closed';
}
