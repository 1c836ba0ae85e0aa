import path from 'node:path';
import { createApiClient, type ApiClient, type BundleImportResult } from '../../electron/contract';
import { startWebServer, type WebServer } from '../../electron/backend/server/web-server';
import { startInstallBackend, type LabBackend } from './install-lab';
import { importBundleOverWeb } from './web-uploads';
import { openSocket, wsTransport } from './ws-peer';

/**
 * The install backend (install-lab's: vault open, no local sampling) behind the real web
 * server, and an API client over a real WebSocket to it, as the renderer would call it.
 * Started again on the same data directory, it is the app after a restart.
 */
export interface InstallApiServer {
  backend: LabBackend;
  server: WebServer;
  client: ApiClient;
  /** Imports a release bundle as the page does over web mode (upload, then bundles.importUpload: web mode names no path). */
  importBundle(file: string, trustKey?: string): Promise<BundleImportResult>;
  /** Closes the client, the web server and the backend. */
  stop(): Promise<void>;
}

/** `workDir` holds the server's (empty) renderer directory; the token is the one the client uses. */
export async function serveInstallApi(dataDir: string, workDir: string, token: string): Promise<InstallApiServer> {
  const backend = await startInstallBackend(dataDir);
  let server: WebServer | null = null;
  try {
    server = await startWebServer({
      dispatcher: backend.dispatcher,
      rendererDir: path.join(workDir, 'renderer'),
      token,
      port: 0,
      logger: backend.logger,
      downloads: backend.downloads,
    });
    const client = createApiClient(wsTransport(await openSocket(`ws://127.0.0.1:${server.port}/api`, token)));
    const started = server;
    return {
      backend,
      server,
      client,
      importBundle: (file, trustKey) => importBundleOverWeb(client, `http://127.0.0.1:${started.port}/?token=${token}`, file, trustKey),
      async stop() {
        client.close();
        await started.close();
        await backend.close();
      },
    };
  } catch (error) {
    await server?.close();
    await backend.close();
    throw error;
  }
}
