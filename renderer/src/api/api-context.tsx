import { createContext, useContext, useSyncExternalStore, type ReactNode } from 'react';
import type { ApiClient } from '../../../electron/contract';
import type { Connection, ConnectionState } from './connection';

const ConnectionContext = createContext<Connection | null>(null);

export function ConnectionProvider({ connection, children }: { connection: Connection; children: ReactNode }) {
  return <ConnectionContext.Provider value={connection}>{children}</ConnectionContext.Provider>;
}

function useConnectionStore(): Connection {
  const connection = useContext(ConnectionContext);
  if (!connection) throw new Error('useConnection needs a <ConnectionProvider> above it');
  return connection;
}

/** The connection's state and its reconnect action. */
export function useConnection(): { state: ConnectionState; reconnect: () => void } {
  const connection = useConnectionStore();
  const state = useSyncExternalStore(connection.subscribe, connection.getState);
  return { state, reconnect: connection.reconnect };
}

/**
 * The typed API client. Only components rendered once the connection opened use it
 * (the app shell shows nothing else before that); after the connection is lost the
 * client stays, and its calls fail with DISCONNECTED, which every query shows.
 */
export function useApiClient(): ApiClient {
  const { state } = useConnection();
  if (state.status === 'connected' || state.status === 'lost') return state.client;
  throw new Error('useApiClient was used before the connection to the backend opened');
}
