export interface WebPreferencesInput {
  /** Absolute path of the built preload script. */
  preloadPath: string;
  /** Developer tools: on in development builds, off in production. */
  devTools: boolean;
}

/**
 * The renderer's `webPreferences`, one flag per line so a test can pin each. Structurally a
 * subset of Electron's `WebPreferences`; built here without importing electron so the test
 * runs in plain Node.
 */
export function buildWebPreferences({ preloadPath, devTools }: WebPreferencesInput) {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    spellcheck: false,
    experimentalFeatures: false,
    // Middle-click would otherwise fire `auxclick`, a way to open links in new windows.
    disableBlinkFeatures: 'Auxclick',
    navigateOnDragDrop: false,
    safeDialogs: true,
    devTools,
  } as const;
}
