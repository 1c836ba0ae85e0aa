import { Menu } from 'electron';
import type { MenuItemConstructorOptions } from 'electron';

/**
 * A minimal menu: the platform's standard roles (quit, copy/paste shortcuts, zoom,
 * window management) and developer tools in development builds. No help links: the
 * app opens nothing outside itself.
 */
export function installMenu({ devTools }: { devTools: boolean }): void {
  const isMac = process.platform === 'darwin';
  const view: MenuItemConstructorOptions = {
    label: 'View',
    submenu: [
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
      ...(devTools ? ([{ type: 'separator' }, { role: 'reload' }, { role: 'toggleDevTools' }] as const) : []),
    ],
  };
  const template: MenuItemConstructorOptions[] = [
    isMac ? { role: 'appMenu' } : { role: 'fileMenu' },
    { role: 'editMenu' },
    view,
    { role: 'windowMenu' },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
