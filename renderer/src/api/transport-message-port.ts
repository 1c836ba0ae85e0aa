import { ApiError, type Transport } from '../../../electron/contract';

/** What the Electron preload exposes; nothing else of the shell is visible here. */
export interface ElectronShell {
  kind: 'electron';
  requestBackendPort(): void;
}

declare global {
  interface Window {
    sutazaiShell?: ElectronShell;
  }
}

const PORT_MESSAGE_TYPE = 'sutazai:backend-port';

/** Wraps a MessagePort to the backend as a Transport of JSON texts. */
export function messagePortTransport(port: MessagePort): Transport {
  const messageHandlers: Array<(text: string) => void> = [];
  const closeHandlers: Array<(reason: string) => void> = [];
  let closed = false;
  const finish = (reason: string): void => {
    if (closed) return;
    closed = true;
    for (const handler of closeHandlers) handler(reason);
  };
  port.onmessage = (event: MessageEvent) => {
    if (typeof event.data !== 'string') return;
    for (const handler of messageHandlers) handler(event.data);
  };
  // Chromium fires `close` on a MessagePort whose other end went away (the backend exited).
  port.addEventListener('close', () => finish('the backend closed the port'));
  port.start();
  return {
    send(text) {
      if (closed) throw new Error('the port is closed');
      port.postMessage(text);
    },
    onMessage(handler) {
      messageHandlers.push(handler);
    },
    onClose(handler) {
      closeHandlers.push(handler);
    },
    close() {
      port.close();
      finish('closed by the window');
    },
  };
}

/**
 * Asks the Electron shell for a port to the backend and waits for it. Only a message
 * this window posted to itself (the preload's `window.postMessage`) is accepted.
 */
export function connectElectron(shell: ElectronShell, timeoutMs: number): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const onMessage = (event: MessageEvent): void => {
      if (event.source !== window) return;
      const data: unknown = event.data;
      if (typeof data !== 'object' || data === null || (data as { type?: unknown }).type !== PORT_MESSAGE_TYPE) return;
      const port = event.ports[0];
      if (!(port instanceof MessagePort)) return;
      cleanup();
      resolve(messagePortTransport(port));
    };
    const timer = window.setTimeout(() => {
      cleanup();
      reject(
        new ApiError(
          'TIMEOUT',
          `The desktop shell did not hand over a connection to the backend within ${Math.round(timeoutMs / 1000)} s.`,
          'Restart the app. If it keeps happening, the backend may fail to start: look at the app log in the data directory.',
        ),
      );
    }, timeoutMs);
    const cleanup = (): void => {
      window.clearTimeout(timer);
      window.removeEventListener('message', onMessage);
    };
    // Listen before asking, so a fast answer is not missed.
    window.addEventListener('message', onMessage);
    shell.requestBackendPort();
  });
}
