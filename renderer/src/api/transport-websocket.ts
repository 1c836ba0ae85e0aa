import { API_SUBPROTOCOL, ApiError, apiSocketProtocols, type Transport } from '../../../electron/contract';

/**
 * The backend's WebSocket address for a page served in web mode: same host, path
 * `/api`. The address carries no token: it goes in the handshake's subprotocols.
 */
export function backendSocketUrl(location: { protocol: string; host: string }): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/api`;
}

function describeClose(event: CloseEvent): string {
  return event.reason ? `code ${event.code}: ${event.reason}` : `code ${event.code}`;
}

export interface WebSocketOptions {
  /** The web-mode access token, offered as a subprotocol of the handshake; null in team mode (the session cookie goes instead). */
  token: string | null;
  timeoutMs: number;
  /**
   * Asked when the socket closed before it opened (the browser hides why): a better
   * error than "refused or dropped" when one can be found, else null.
   */
  explainRefusal?: () => Promise<ApiError | null>;
}

/** Opens the WebSocket and resolves once it is open; rejects when it cannot open. */
export function connectWebSocket(url: string, { token, timeoutMs, explainRefusal }: WebSocketOptions): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, token === null ? [API_SUBPROTOCOL] : apiSocketProtocols(token));
    const messageHandlers: Array<(text: string) => void> = [];
    const closeHandlers: Array<(reason: string) => void> = [];
    let opened = false;
    let gaveUp = false;

    const failToOpen = (why: string): void => {
      reject(
        new ApiError(
          'DISCONNECTED',
          `Could not connect to the backend (${why}).`,
          'Check that `npm run web` is still running, then open the address it printed: it carries the access token.',
        ),
      );
    };
    const timer = window.setTimeout(() => {
      if (opened) return;
      gaveUp = true;
      socket.close();
      failToOpen(`no answer within ${Math.round(timeoutMs / 1000)} s`);
    }, timeoutMs);

    socket.addEventListener('message', (event: MessageEvent) => {
      if (typeof event.data !== 'string') return;
      for (const handler of messageHandlers) handler(event.data);
    });
    socket.addEventListener('open', () => {
      opened = true;
      window.clearTimeout(timer);
      resolve({
        send(text) {
          if (socket.readyState !== WebSocket.OPEN) throw new Error('the WebSocket is not open');
          socket.send(text);
        },
        onMessage(handler) {
          messageHandlers.push(handler);
        },
        onClose(handler) {
          closeHandlers.push(handler);
        },
        close() {
          socket.close(1000, 'closed by the window');
        },
      });
    });
    socket.addEventListener('close', (event: CloseEvent) => {
      window.clearTimeout(timer);
      if (gaveUp) return;
      if (!opened) {
        // The browser hides why a handshake failed (a refused token looks like a dropped connection).
        const fallback = () => failToOpen(`the server refused or dropped the connection, ${describeClose(event)}`);
        if (!explainRefusal) return fallback();
        void explainRefusal().then((explained) => (explained ? reject(explained) : fallback()), fallback);
        return;
      }
      const reason = describeClose(event);
      for (const handler of closeHandlers) handler(reason);
    });
  });
}
