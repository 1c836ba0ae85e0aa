import { ApiError, createApiClient, type ApiClient } from '../../electron/contract';
import type { RunningBackend } from './backend-harness';
import { openSocket, wsTransport } from './ws-peer';

/** The pipes a test opens to a running backend: each a WebSocket of its own (a browser tab), all closed together at the end. */
export interface ApiPipes {
  open(): Promise<ApiClient>;
  closeAll(): void;
}

/** `backend` is read at each open: the backend starts in a beforeAll, after this is made. */
export function apiPipes(backend: () => RunningBackend): ApiPipes {
  const clients: ApiClient[] = [];
  return {
    async open() {
      const running = backend();
      const client = createApiClient(wsTransport(await openSocket(running.apiUrl, running.token)));
      clients.push(client);
      return client;
    },
    closeAll() {
      for (const client of clients.splice(0)) client.close();
    },
  };
}

/** What a call came to: 'ok', or its ApiError's code; any other error is thrown on. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return error.code;
  }
}
