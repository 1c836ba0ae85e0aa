import { BrowserWindow } from 'electron';
import { APP_ENTRY_URL } from './security/app-origin';
import { buildWebPreferences } from './security/web-preferences';

export interface MainWindowOptions {
  preloadPath: string;
  devTools: boolean;
  /** Window icon (Linux and Windows); macOS takes the bundle's icon. */
  iconPath?: string;
}

/** The one window of the app, showing `app://renderer/index.html` and nothing else. */
export function createMainWindow({ preloadPath, devTools, iconPath }: MainWindowOptions): BrowserWindow {
  const window = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 1024,
    minHeight: 700,
    show: false,
    title: 'SutazAI Control Center',
    ...(iconPath === undefined ? {} : { icon: iconPath }),
    webPreferences: buildWebPreferences({ preloadPath, devTools }),
  });
  window.once('ready-to-show', () => window.show());
  window.loadURL(APP_ENTRY_URL).catch((error: unknown) => {
    console.error(`[shell] could not load ${APP_ENTRY_URL}:`, error);
  });
  return window;
}
