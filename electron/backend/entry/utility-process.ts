import { alertNotification, ApiError, type OpenExternalRequest } from '../../contract';
import { startBackend } from '../app/backend';
import { parseEntryArgs, sharedOptions } from '../app/process-options';
import { servingBackendConfig } from '../app/serving-backend-config';
import { createPipeSession, desktopPipeGrants } from '../server/dispatcher';

/**
 * The backend inside the desktop app, as an Electron utility process. The shell sends
 * one MessagePort per renderer connection; nothing else arrives on the parent port.
 * The shapes below are the parts of Electron's MessagePortMain we use: this file runs
 * in plain Node terms and must not import `electron`.
 */
interface PortLike {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  on(event: 'close', listener: () => void): void;
  postMessage(message: unknown): void;
  start(): void;
  close(): void;
}
interface ParentPortLike {
  on(event: 'message', listener: (event: { data: unknown; ports: PortLike[] }) => void): void;
  postMessage(message: unknown): void;
}

async function main(): Promise<void> {
  const parentPort = (process as unknown as { parentPort?: ParentPortLike }).parentPort;
  if (!parentPort) {
    throw new ApiError(
      'INTERNAL',
      'The backend entry must run as an Electron utility process.',
      'Start the app with `npm start`, or use `npm run web`.',
    );
  }
  // Listen before the (async) start so nothing the shell sends early is lost.
  type ParentMessage = { data: unknown; ports: PortLike[] };
  const early: ParentMessage[] = [];
  let handle: ((event: ParentMessage) => void) | null = null;
  parentPort.on('message', (event) => (handle ? handle(event) : early.push(event)));

  const { values } = parseEntryArgs(process.argv.slice(2), { mode: { type: 'string' } }, 'utility-process --data-dir DIR');
  // No vault key here: the shell sends the one from the OS secret store over the parent port.
  const backend = await startBackend({
    ...servingBackendConfig(sharedOptions(values), 'desktop'),
    // Signing in through the site's provider: the shell opens its page in the system browser (RFC 8252).
    openExternal: (url) => parentPort.postMessage({ type: 'open-external', url } satisfies OpenExternalRequest),
  });

  let nextPeer = 1;
  // The app's windows are one person at one machine: the operator signed in on one is signed in on all (and after a reload).
  const desktopSession = createPipeSession();
  handle = (event) => {
    const data = event.data as { type?: unknown; key?: unknown } | null;
    if (data?.type === 'vault-key' && typeof data.key === 'string' && event.ports.length === 0) {
      try {
        backend.unlockVault({ kind: 'os-secret-store', key: Buffer.from(data.key, 'base64') });
      } catch (error) {
        backend.logger.error({ err: error }, 'the vault key from the OS secret store does not open the stored secrets');
      }
      return;
    }
    const port = event.ports[0];
    if (data?.type !== 'client-port' || !port || event.ports.length !== 1) {
      backend.logger.warn({ type: String(data?.type) }, 'ignored a message from the shell that is not a client port');
      return;
    }
    const connection = backend.dispatcher.connect(
      (text) => port.postMessage(text),
      `port:${nextPeer++}`,
      desktopPipeGrants(desktopSession),
      'desktop',
    );
    port.on('message', ({ data: text }) => {
      // Structured clone could carry anything; the contract's pipe carries JSON texts only.
      if (typeof text === 'string') connection.receive(text);
      else connection.receiveNonText(`a structured-clone ${text === null ? 'null' : typeof text}`);
    });
    port.on('close', () => connection.close());
    port.start();
  };
  for (const event of early.splice(0)) handle(event);

  // The shell raises a desktop notification for each alert that starts firing: it hears of
  // them through the contract, as any client does, and gets only the words to show.
  void backend
    .openClient('shell-notifications')
    .subscribe('alerts.changed', {}, ({ change, alert }) => {
      if (change === 'firing') parentPort.postMessage(alertNotification(alert));
    })
    .catch((error: unknown) => backend.logger.error({ err: error }, 'desktop notifications of alerts could not start'));

  const stop = () => void backend.close().finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  const text = error instanceof ApiError ? `${error.code}: ${error.message} (${error.remedy})` : String((error as Error)?.stack ?? error);
  process.stderr.write(`backend failed to start: ${text}\n`);
  process.exit(1);
});
