import { ApiError, type Transport } from '../../../electron/contract';

/**
 * The backend's WebSocket address for a page served in web mode: same host, path
 * `/api`, and the access token the page was opened with (`?token=`). Without a token
 * in the page address the server relies on the cookie it set.
 */
export function backendSocketUrl(location: { protocol: string; host: string; search: string }): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = new URLSearchParams(location.search).get('token');
  const query = token ? `?token=${encodeURIComponent(token)}` : '';
  return `${scheme}//${location.host}/api${query}`;
}

function describeClose(event: CloseEvent): string {
  return event.reason ? `code ${event.code}: ${event.reason}` : `code ${event.code}`;
}

/** Opens the WebSocket and resolves once it is open; rejects when it cannot open. */
export function connectWebSocket(url: string, timeoutMs: number): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const messageHandlers: Array<(text: string) => void> = [];
    const closeHandlers: Array<(reason: string) => void> = [];
    let opened = false;

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
      if (!opened) {
        // The browser hides why a handshake failed (a refused token looks like a dropped connection).
        failToOpen(`the server refused or dropped the connection, ${describeClose(event)}`);
        return;
      }
      const reason = describeClose(event);
      for (const handler of closeHandlers) handler(reason);
    });
  });
}
