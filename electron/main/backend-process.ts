import { MessageChannelMain, utilityProcess } from 'electron';
import type { MessagePortMain, UtilityProcess } from 'electron';
import { decideRestart, DEFAULT_RESTART_POLICY } from './backend-restart-budget';
import type { RestartPolicy } from './backend-restart-budget';
import { AlertNotificationSchema, OpenExternalRequestSchema, type AlertNotification } from '../contract';
import { backendArgs } from './launch-options';
import type { LogLevel } from './launch-options';

export interface BackendProcessOptions {
  /** Built utility-process entry (`dist/backend/utility-process.cjs`). */
  entryPath: string;
  dataDir: string;
  logLevel: LogLevel;
  /** Called after an unexpected exit was answered with a fresh backend: the window must reconnect. */
  onRestarted(): void;
  /** Called when the restart budget is spent; the backend stays down. */
  onGaveUp(restartsInWindow: number, lastExitCode: number): void;
  /** An alert started firing: the words of the desktop notification to raise. */
  onAlertNotification?(notification: AlertNotification): void;
  /** The backend asks to open the provider's sign-in page in the system browser (an http(s) URL, checked). */
  onOpenExternal?(url: string): void;
  /**
   * Electron's resources path in the packaged app (where electron-builder's extraResources
   * lie), undefined from a checkout; the backend reads it from SUTAZAI_RESOURCES_PATH
   * (electron/backend/app/packaged-resources.ts).
   */
  resourcesPath?: string;
  /** The vault key unsealed by the OS secret store; sent to every backend started. */
  vaultKey?: Buffer | null;
  policy?: RestartPolicy;
  now?: () => number;
}

/**
 * The backend as a utility process: started once, restarted when it dies on its own
 * (within the restart budget), and handed one end of a fresh MessageChannel for every
 * renderer connection. Its only message of its own is the notification of a firing alert.
 */
export class BackendProcess {
  private child: UtilityProcess | null = null;
  private restarts: readonly number[] = [];
  private stopping = false;

  constructor(private readonly options: BackendProcessOptions) {}

  start(): void {
    this.stopping = false;
    const child = utilityProcess.fork(this.options.entryPath, backendArgs(this.options.dataDir, this.options.logLevel), {
      serviceName: 'SutazAI backend',
      stdio: 'inherit',
      ...(this.options.resourcesPath !== undefined ? { env: { ...process.env, SUTAZAI_RESOURCES_PATH: this.options.resourcesPath } } : {}),
    });
    child.on('error', (type, location) => {
      console.error(`[shell] backend reported ${type} at ${location}`);
    });
    child.once('exit', (code) => this.onExit(child, code));
    // The backend's messages of its own, each checked against the contract before the shell acts on it.
    child.on('message', (message: unknown) => {
      const notification = AlertNotificationSchema.safeParse(message);
      if (notification.success) this.options.onAlertNotification?.(notification.data);
      const open = OpenExternalRequestSchema.safeParse(message);
      if (open.success) this.options.onOpenExternal?.(open.data.url);
    });
    // Over the parent port, never argv or the environment, which other processes can read.
    if (this.options.vaultKey) child.postMessage({ type: 'vault-key', key: this.options.vaultKey.toString('base64') });
    this.child = child;
  }

  /**
   * Opens a new channel to the backend and returns the renderer's end, or null when the
   * backend is not running (after giving up, or while quitting).
   */
  connect(): MessagePortMain | null {
    if (this.child === null || this.stopping) return null;
    const { port1, port2 } = new MessageChannelMain();
    this.child.postMessage({ type: 'client-port' }, [port1]);
    return port2;
  }

  /** Stops the backend on purpose; its exit is then not treated as a crash. */
  stop(): void {
    this.stopping = true;
    this.child?.kill();
  }

  private onExit(child: UtilityProcess, code: number): void {
    if (child !== this.child) return;
    this.child = null;
    if (this.stopping) return;
    console.error(`[shell] backend exited unexpectedly with code ${code}`);
    const now = (this.options.now ?? Date.now)();
    const decision = decideRestart(this.restarts, now, this.options.policy ?? DEFAULT_RESTART_POLICY);
    if (decision.action === 'give-up') {
      this.options.onGaveUp(decision.restartsInWindow, code);
      return;
    }
    this.restarts = decision.restarts;
    const policy = this.options.policy ?? DEFAULT_RESTART_POLICY;
    console.error(
      `[shell] restarting the backend (restart ${decision.restarts.length} of ${policy.burst} allowed in ${policy.intervalMs / 1000} s)`,
    );
    this.start();
    this.options.onRestarted();
  }
}
