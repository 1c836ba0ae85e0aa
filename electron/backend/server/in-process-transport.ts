import { userInfo } from 'node:os';
import type { Transport } from '../../contract';
import type { Dispatcher } from './dispatcher';

/**
 * The third pipe to the dispatcher, beside the Electron port and the WebSocket: a client
 * in the same process (the CLI, tests). Messages still cross as JSON texts and are parsed
 * on arrival at each end, so a call here is checked exactly as one from a window is.
 * Delivery is queued (microtasks, in order), never re-entrant, as a real pipe would be.
 */
export function connectInProcess(dispatcher: Dispatcher, peer: string, actor: string = commandLineActor()): Transport {
  let onMessage: (text: string) => void = () => {};
  let onClose: (reason: string) => void = () => {};
  let open = true;
  const connection = dispatcher.connect(
    (text) => {
      queueMicrotask(() => {
        if (open) onMessage(text);
      });
    },
    peer,
    { localFiles: true },
    actor,
  );
  return {
    send(text) {
      if (!open) throw new Error('the in-process connection is closed');
      queueMicrotask(() => {
        if (open) connection.receive(text);
      });
    },
    onMessage(handler) {
      onMessage = handler;
    },
    onClose(handler) {
      onClose = handler;
    },
    close() {
      if (!open) return;
      open = false;
      connection.close();
      onClose('closed by the client');
    },
  };
}

/** The in-process pipe is the command line's: its actions are the OS user's who ran it. */
export function commandLineActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    // No passwd entry for this uid (a container's arbitrary user).
    return `cli:uid-${process.getuid?.() ?? 'unknown'}`;
  }
}
