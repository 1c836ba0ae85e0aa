import path from 'node:path';
import { startBackend, type Backend, type BackendConfig } from '../../electron/backend/app/backend';
import { startWebServer, type WebServer } from '../../electron/backend/server/web-server';
import { createApiClient, type ApiClient } from '../../electron/contract';
import { makeTempDir } from './temp-dir';
import { openSocket, wsTransport } from './ws-peer';

export interface RunningBackend {
  backend: Backend;
  server: WebServer;
  dataDir: string;
  token: string;
  /** ws://127.0.0.1:PORT/api: the token goes in the handshake (openSocket(apiUrl, token)), never in the address. */
  apiUrl: string;
  stop(): Promise<void>;
}

/**
 * A real backend in this process that starts nothing on its own (no sampling, probing, fleet
 * links or alert evaluation): for a test that drives it through its dispatcher or clients alone.
 * `overrides`: more of its configuration (a vault key, a clock).
 */
export function startQuietBackend(dataDir: string, overrides: Partial<BackendConfig> = {}): Promise<Backend> {
  return startBackend({
    dataDir,
    logLevel: 'warn',
    mode: 'test',
    logToConsole: false,
    sampleLocalHost: false,
    probeAtStart: false,
    fleetLinks: false,
    evaluateAlerts: false,
    ...overrides,
  });
}

/** A real backend (real SQLite file, real probe and sampler) behind the real web server. */
export async function startTestBackend(overrides: Partial<BackendConfig> = {}): Promise<RunningBackend> {
  const dir = makeTempDir();
  const token = 'test-token-' + Math.random().toString(36).slice(2);
  let backend: Backend | undefined;
  let server: WebServer | undefined;
  try {
    backend = await startBackend({
      dataDir: dir.path,
      logLevel: 'debug',
      mode: 'test',
      logToConsole: false,
      sampleLocalHost: true,
      probeAtStart: true,
      ...overrides,
    });
    server = await startWebServer({
      dispatcher: backend.dispatcher,
      rendererDir: path.join(dir.path, 'renderer'),
      token,
      port: 0,
      logger: backend.logger,
      downloads: backend.downloads,
    });
  } catch (error) {
    await backend?.close();
    dir.remove();
    throw error;
  }
  const running = { backend, server };
  return {
    ...running,
    dataDir: dir.path,
    token,
    apiUrl: `ws://127.0.0.1:${running.server.port}/api`,
    async stop() {
      await running.server.close();
      await running.backend.close();
      dir.remove();
    },
  };
}

/** A test backend with an API client already connected over its authenticated socket; `stop` closes both. */
export async function startTestBackendWithClient(
  overrides: Partial<BackendConfig> = {},
): Promise<{ running: RunningBackend; client: ApiClient; stop(): Promise<void> }> {
  const running = await startTestBackend(overrides);
  const client = createApiClient(wsTransport(await openSocket(running.apiUrl, running.token)));
  return {
    running,
    client,
    async stop() {
      client.close();
      await running.stop();
    },
  };
}
