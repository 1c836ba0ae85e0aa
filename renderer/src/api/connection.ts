import { ApiError, createApiClient, type ApiClient } from '../../../electron/contract';
import { connectElectron } from './transport-message-port';
import { connectWebMode } from './web-mode-connection';

export type ConnectionState =
  | { status: 'connecting' }
  | { status: 'connected'; client: ApiClient }
  | { status: 'lost'; client: ApiClient; reason: string }
  | { status: 'failed'; error: ApiError };

/** The one connection of this window to the backend, as a store React can read. */
export interface Connection {
  getState(): ConnectionState;
  subscribe(listener: () => void): () => void;
  /** Starts over from a clean page: the simplest way to get every query and subscription back. */
  reconnect(): void;
}

const CONNECT_TIMEOUT_MS = 15_000;

function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(
    'DISCONNECTED',
    `Could not connect to the backend (${error instanceof Error ? error.message : String(error)}).`,
    'Reload the window; if the backend stopped, restart it.',
  );
}

/**
 * Picks the pipe (the Electron shell's MessagePort when the preload is there, the web
 * mode WebSocket otherwise) and wraps it in the typed client. Nothing above this file
 * knows which pipe it got.
 */
export function openConnection(): Connection {
  let state: ConnectionState = { status: 'connecting' };
  const listeners = new Set<() => void>();
  const set = (next: ConnectionState): void => {
    state = next;
    for (const listener of listeners) listener();
  };

  const shell = window.sutazaiShell;
  const transport = shell?.kind === 'electron' ? connectElectron(shell, CONNECT_TIMEOUT_MS) : connectWebMode(CONNECT_TIMEOUT_MS);

  transport.then(
    (opened) => {
      const client = createApiClient(opened);
      opened.onClose((reason) => set({ status: 'lost', client, reason }));
      set({ status: 'connected', client });
    },
    (error: unknown) => set({ status: 'failed', error: toApiError(error) }),
  );

  return {
    getState: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    reconnect() {
      window.location.reload();
    },
  };
}
