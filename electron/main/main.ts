// The Electron shell's entry: wiring only. Every security rule is a pure function in
// ./security; every product feature lives in the backend.
import { app, dialog, ipcMain, Notification, safeStorage, session, shell } from 'electron';
import type { BrowserWindow, IpcMainEvent } from 'electron';
import os from 'node:os';
import path from 'node:path';
import { defaultDataDir } from '../shared-node/data-dir';
import { IPC_BACKEND_PORT, IPC_CONNECT } from '../preload/ipc-channels';
import { handleAppProtocol, registerAppScheme } from './app-protocol';
import { BackendProcess } from './backend-process';
import { DEFAULT_RESTART_POLICY } from './backend-restart-budget';
import { hardenSession, hardenWebContents } from './harden';
import { backendLogDir, parseLaunchOptions } from './launch-options';
import { installMenu } from './menu';
import { isTrustedIpcSender } from './security/ipc-sender';
import { createMainWindow } from './window';
import { loadOrCreateVaultKey } from './vault-key';

// Built layout: dist/main/main.cjs next to dist/preload, dist/renderer, dist/backend.
const distDir = path.resolve(__dirname, '..');
const devTools = process.env.SUTAZAI_BUILD !== 'production';
const launch = parseLaunchOptions(process.argv.slice(1), process.env);
for (const warning of launch.warnings) console.warn(`[shell] ${warning}`);

app.enableSandbox();
registerAppScheme();

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  let mainWindow: BrowserWindow | null = null;
  let backend: BackendProcess | null = null;

  app.on('second-instance', () => {
    if (mainWindow === null) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });

  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents));

  // Other channels get no listener at all, so anything else a page sends is dropped.
  ipcMain.on(IPC_CONNECT, (event: IpcMainEvent) => {
    const frame = event.senderFrame;
    const trusted = isTrustedIpcSender({
      frameUrl: frame?.url ?? null,
      isMainFrame: frame !== null && frame.parent === null,
      fromAppWindow: mainWindow !== null && !mainWindow.isDestroyed() && event.sender === mainWindow.webContents,
    });
    if (!trusted) {
      console.warn(`[shell] ignored ${IPC_CONNECT} from ${frame?.url ?? 'a destroyed frame'}`);
      return;
    }
    const port = backend?.connect() ?? null;
    if (port === null) return;
    event.sender.postMessage(IPC_BACKEND_PORT, null, [port]);
  });

  const openWindow = (): void => {
    mainWindow = createMainWindow({
      preloadPath: path.join(distDir, 'preload', 'preload.cjs'),
      devTools,
      iconPath: process.platform === 'darwin' ? undefined : path.join(resourcesDir(), 'icons', 'icon.png'),
    });
    mainWindow.on('closed', () => {
      mainWindow = null;
    });
  };

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  app.on('before-quit', () => backend?.stop());

  app
    .whenReady()
    .then(() => {
      hardenSession(session.defaultSession);
      handleAppProtocol(path.join(distDir, 'renderer'));
      installMenu({ devTools });

      // The backend's own default, not Electron's userData, so the CLI and web mode see
      // the same database as the desktop app.
      const dataDir = launch.dataDir ?? defaultDataDir({ platform: process.platform, env: process.env, homedir: os.homedir() });
      let vaultKey: Buffer | null = null;
      try {
        const vault = loadOrCreateVaultKey(safeStorage, dataDir);
        vaultKey = vault.key;
        if (!vault.key) console.warn(`[shell] stored passwords stay locked: ${vault.reason}`);
      } catch (error) {
        console.error(`[shell] could not unseal the vault key: ${String(error)}`);
      }
      backend = new BackendProcess({
        entryPath: path.join(distDir, 'backend', 'utility-process.cjs'),
        dataDir,
        vaultKey,
        logLevel: launch.logLevel,
        ...(app.isPackaged ? { resourcesPath: process.resourcesPath } : {}),
        onRestarted: () => {
          // The old port died with the old backend; a reload makes the page ask again.
          if (mainWindow !== null && !mainWindow.isDestroyed()) mainWindow.webContents.reload();
        },
        // Only the backend asks (never the page: window-open.ts denies it everything), for its provider sign-in (RFC 8252).
        onOpenExternal: (url) => {
          shell.openExternal(url).catch((error: unknown) => console.error(`[shell] could not open the system browser: ${String(error)}`));
        },
        onAlertNotification: ({ title, body }) => {
          if (!Notification.isSupported()) return;
          const notification = new Notification({ title, body });
          // A click brings the control center forward, where the alert's list is.
          notification.on('click', () => {
            if (mainWindow === null || mainWindow.isDestroyed()) openWindow();
            else {
              if (mainWindow.isMinimized()) mainWindow.restore();
              mainWindow.focus();
            }
          });
          notification.show();
        },
        onGaveUp: (restarts, code) => {
          const minutes = DEFAULT_RESTART_POLICY.intervalMs / 60_000;
          dialog.showErrorBox(
            'SutazAI backend keeps stopping',
            `The backend exited with code ${code} after being restarted ${restarts} times within ${minutes} minute(s), ` +
              `so the control center will close.\n\nIts logs are in ${backendLogDir(dataDir)}.`,
          );
          app.quit();
        },
      });
      backend.start();
      openWindow();

      app.on('activate', () => {
        if (mainWindow === null) openWindow();
      });
    })
    .catch((error: unknown) => {
      console.error('[shell] failed to start:', error);
      dialog.showErrorBox('SutazAI Control Center could not start', String(error));
      app.exit(1);
    });
}

/** `resources/` in the checkout, or the copy electron-builder puts next to app.asar. */
function resourcesDir(): string {
  return app.isPackaged ? path.join(process.resourcesPath, 'resources') : path.join(app.getAppPath(), 'resources');
}
