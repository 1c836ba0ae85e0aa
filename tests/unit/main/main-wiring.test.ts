import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { defaultDataDir } from '../../../electron/shared-node/data-dir';

const sharedDefaultDataDir = defaultDataDir({ platform: process.platform, env: process.env, homedir: homedir() });

// The Electron binary is not installed on build machines, so main.ts runs here against a
// recording stand-in for the `electron` module: this checks the wiring (which handler goes
// on which event, what the backend is forked with, what crosses on connect), while the
// rules themselves are tested in security.test.ts.

const fake = await vi.hoisted(async () => {
  // Guard: should the mock ever miss, node_modules/electron/index.js must not start a download.
  process.env.ELECTRON_OVERRIDE_DIST_PATH ??= '/nonexistent-electron-guard';
  const { EventEmitter } = await import('node:events');

  class FakeWebContents extends EventEmitter {
    url = 'app://renderer/index.html';
    windowOpenHandler: ((details: { url: string }) => unknown) | null = null;
    posted: unknown[][] = [];
    reloads = 0;
    getURL() {
      return this.url;
    }
    setWindowOpenHandler(handler: (details: { url: string }) => unknown) {
      this.windowOpenHandler = handler;
    }
    postMessage(...args: unknown[]) {
      this.posted.push(args);
    }
    reload() {
      this.reloads++;
    }
  }

  class FakeBrowserWindow extends EventEmitter {
    static created: FakeBrowserWindow[] = [];
    webContents = new FakeWebContents();
    loaded: string[] = [];
    constructor(public options: Record<string, unknown>) {
      super();
      FakeBrowserWindow.created.push(this);
    }
    loadURL(url: string) {
      this.loaded.push(url);
      return Promise.resolve();
    }
    isDestroyed() {
      return false;
    }
    isMinimized() {
      return false;
    }
    restore() {}
    focus() {}
    show() {}
  }

  class FakeChild extends EventEmitter {
    posted: unknown[][] = [];
    killed = false;
    constructor(
      public modulePath: string,
      public args: string[],
      public options: Record<string, unknown>,
    ) {
      super();
    }
    postMessage(...args: unknown[]) {
      this.posted.push(args);
    }
    kill() {
      this.killed = true;
      return true;
    }
  }

  const notificationsShown: Array<{ title: string; body: string }> = [];
  const calls = {
    enableSandbox: 0,
    schemes: [] as unknown[],
    protocolHandlers: new Map<string, (request: { method: string; url: string }) => Promise<Response>>(),
    forks: [] as FakeChild[],
    errorBoxes: [] as string[][],
    quits: 0,
    permissionRequest: null as null | ((contents: unknown, permission: string, callback: (granted: boolean) => void) => void),
    permissionCheck: null as null | ((contents: unknown, permission: string) => boolean),
    devicePermission: null as null | ((details: { deviceType: string }) => boolean),
    beforeRequest: null as null | ((details: { url: string }, callback: (response: { cancel: boolean }) => void) => void),
  };

  const app = Object.assign(new EventEmitter(), {
    enableSandbox: () => void calls.enableSandbox++,
    requestSingleInstanceLock: () => true,
    whenReady: () => Promise.resolve(),
    getPath: (name: string) => `/home/operator/.config/SutazAI Control Center/${name === 'userData' ? '' : name}`.replace(/\/$/, ''),
    getAppPath: () => '/repo',
    isPackaged: false,
    quit: () => void calls.quits++,
    exit: () => undefined,
  });

  const module = {
    app,
    BrowserWindow: FakeBrowserWindow,
    ipcMain: new EventEmitter(),
    protocol: {
      registerSchemesAsPrivileged: (schemes: unknown[]) => void calls.schemes.push(...schemes),
      handle: (scheme: string, handler: (request: { method: string; url: string }) => Promise<Response>) =>
        void calls.protocolHandlers.set(scheme, handler),
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (handler: typeof calls.permissionRequest) => void (calls.permissionRequest = handler),
        setPermissionCheckHandler: (handler: typeof calls.permissionCheck) => void (calls.permissionCheck = handler),
        setDevicePermissionHandler: (handler: typeof calls.devicePermission) => void (calls.devicePermission = handler),
        webRequest: { onBeforeRequest: (handler: typeof calls.beforeRequest) => void (calls.beforeRequest = handler) },
      },
    },
    dialog: { showErrorBox: (title: string, body: string) => void calls.errorBoxes.push([title, body]) },
    Menu: { buildFromTemplate: (template: unknown) => template, setApplicationMenu: () => undefined },
    utilityProcess: {
      fork: (modulePath: string, args: string[], options: Record<string, unknown>) => {
        const child = new FakeChild(modulePath, args, options);
        calls.forks.push(child);
        return child;
      },
    },
    MessageChannelMain: class {
      port1 = { end: 'backend' };
      port2 = { end: 'renderer' };
    },
    Notification: class extends EventEmitter {
      static isSupported() {
        return true;
      }
      constructor(public options: { title: string; body: string }) {
        super();
      }
      show() {
        notificationsShown.push(this.options);
      }
    },
  };
  return { module, calls, FakeBrowserWindow, FakeWebContents, notificationsShown };
});

vi.mock('electron', () => ({ ...fake.module, default: fake.module }));

const { calls, FakeBrowserWindow, FakeWebContents } = fake;
// The shell logs every refusal and crash; the assertions below check what it did instead.
vi.spyOn(console, 'warn').mockImplementation(() => undefined);
vi.spyOn(console, 'error').mockImplementation(() => undefined);
const argv = process.argv;
process.argv = [argv[0] ?? 'electron', '.', '--log-level', 'debug'];
await import('../../../electron/main/main');
process.argv = argv;
await new Promise((resolve) => setTimeout(resolve, 0)); // let whenReady() continue

const ENTRY = 'app://renderer/index.html';
const window = FakeBrowserWindow.created[0];

function connectEvent(overrides: Partial<{ sender: unknown; senderFrame: unknown }> = {}) {
  return { sender: window?.webContents, senderFrame: { url: ENTRY, parent: null }, ...overrides };
}

describe('main process wiring', () => {
  it('turns on the sandbox and registers the app scheme before ready', () => {
    expect(calls.enableSandbox).toBe(1);
    expect(calls.schemes).toEqual([
      { scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true, supportFetchAPI: true, bypassCSP: false }) },
    ]);
  });

  it('forks the backend as a utility process with the data folder and the log level', () => {
    expect(calls.forks).toHaveLength(1);
    const [child] = calls.forks;
    expect(child?.modulePath.endsWith(path.join('backend', 'utility-process.cjs'))).toBe(true);
    // The same default as the CLI and web mode, so all three see one database.
    expect(child?.args).toEqual(['--data-dir', sharedDefaultDataDir, '--mode', 'desktop', '--log-level', 'debug']);
    expect(child?.options).toEqual({ serviceName: 'SutazAI backend', stdio: 'inherit' });
  });

  it('opens one locked-down window on the app entry page', () => {
    expect(FakeBrowserWindow.created).toHaveLength(1);
    expect(window?.loaded).toEqual([ENTRY]);
    expect(window?.options).toMatchObject({ width: 1280, height: 800, minWidth: 1024, minHeight: 700 });
    expect(window?.options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
    });
    expect(String((window?.options.webPreferences as { preload: string }).preload)).toMatch(/preload[/\\]preload\.cjs$/);
  });

  it('denies every permission request, check and device, and cancels requests off the app origin', () => {
    const granted: boolean[] = [];
    calls.permissionRequest?.({}, 'media', (value) => granted.push(value));
    expect(granted).toEqual([false]);
    expect(calls.permissionCheck?.({}, 'clipboard-read')).toBe(false);
    expect(calls.devicePermission?.({ deviceType: 'usb' })).toBe(false);
    const answers: boolean[] = [];
    calls.beforeRequest?.({ url: 'https://example.com/' }, (r) => answers.push(r.cancel));
    calls.beforeRequest?.({ url: `${ENTRY}` }, (r) => answers.push(r.cancel));
    expect(answers).toEqual([true, false]);
  });

  it('hardens every web contents: no new windows, no navigation away, no webview', () => {
    const contents = new FakeWebContents();
    fake.module.app.emit('web-contents-created', {}, contents);
    expect(contents.windowOpenHandler?.({ url: 'https://example.com/' })).toEqual({ action: 'deny' });

    const navigate = (event: string, url: string, extra: Record<string, unknown> = {}) => {
      const preventDefault = vi.fn();
      contents.emit(event, { url, preventDefault, isMainFrame: true, ...extra });
      return preventDefault.mock.calls.length > 0;
    };
    expect(navigate('will-navigate', 'https://example.com/')).toBe(true);
    expect(navigate('will-navigate', `${ENTRY}#/hosts`)).toBe(false);
    expect(navigate('will-redirect', 'file:///etc/passwd')).toBe(true);
    expect(navigate('will-frame-navigate', ENTRY, { isMainFrame: false })).toBe(true);
    const attach = vi.fn();
    contents.emit('will-attach-webview', { preventDefault: attach }, {}, {});
    expect(attach).toHaveBeenCalled();
  });

  it('hands a trusted page one end of a new channel and the backend the other', () => {
    fake.module.ipcMain.emit('sutazai:connect', connectEvent());
    const child = calls.forks[0];
    expect(child?.posted).toEqual([[{ type: 'client-port' }, [{ end: 'backend' }]]]);
    expect(window?.webContents.posted).toEqual([['sutazai:backend-port', null, [{ end: 'renderer' }]]]);
  });

  it.each([
    ['a sub-frame', { senderFrame: { url: ENTRY, parent: {} } }],
    ['another page', { senderFrame: { url: 'https://example.com/', parent: null } }],
    ['a destroyed frame', { senderFrame: null }],
    ['another web contents', { sender: new FakeWebContents() }],
  ])('ignores a connect request from %s', (_name, overrides) => {
    const before = calls.forks[0]?.posted.length;
    fake.module.ipcMain.emit('sutazai:connect', connectEvent(overrides));
    expect(calls.forks[0]?.posted.length).toBe(before);
  });

  it('raises a desktop notification for a firing alert the backend reports, and nothing for any other message', () => {
    const child = calls.forks.at(-1)!;
    child.emit('message', {
      type: 'alert-notification',
      alertId: 7,
      title: 'Critical: ProcessCrashLoop (lab / gpu-1)',
      body: 'agent-2 on gpu-1 is in crash-loop',
    });
    child.emit('message', { type: 'alert-notification', title: 'no id' });
    child.emit('message', 'alert-notification');
    expect(fake.notificationsShown).toEqual([
      { title: 'Critical: ProcessCrashLoop (lab / gpu-1)', body: 'agent-2 on gpu-1 is in crash-loop' },
    ]);
  });

  it('serves 404 with the security headers for anything but the renderer host', async () => {
    const handler = calls.protocolHandlers.get('app');
    const response = await handler?.({ method: 'GET', url: 'app://evil/index.html' });
    expect(response?.status).toBe(404);
    expect(response?.headers.get('Content-Security-Policy')).toContain("default-src 'none'");
    expect(response?.headers.get('X-Content-Type-Options')).toBe('nosniff');
  });

  it('restarts a crashed backend and reloads the window, three times a minute at most', () => {
    for (let crash = 1; crash <= 3; crash++) {
      calls.forks.at(-1)?.emit('exit', 1);
      expect(calls.forks).toHaveLength(1 + crash);
      expect(window?.webContents.reloads).toBe(crash);
    }
    expect(calls.errorBoxes).toEqual([]);
    calls.forks.at(-1)?.emit('exit', 134);
    expect(calls.forks).toHaveLength(4);
    expect(calls.errorBoxes).toHaveLength(1);
    expect(calls.errorBoxes[0]?.[1]).toContain('exited with code 134');
    expect(calls.errorBoxes[0]?.[1]).toContain(path.join(sharedDefaultDataDir, 'logs'));
    expect(calls.quits).toBe(1);
  });
});

describe('the app protocol', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sutazai-renderer-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves the built renderer files with their type and the security headers', async () => {
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>ok</title>');
    calls.protocolHandlers.clear();
    const { handleAppProtocol } = await import('../../../electron/main/app-protocol');
    handleAppProtocol(dir);
    const handler = calls.protocolHandlers.get('app');

    const page = await handler?.({ method: 'GET', url: ENTRY });
    expect(page?.status).toBe(200);
    expect(page?.headers.get('Content-Type')).toBe('text/html; charset=utf-8');
    expect(page?.headers.get('Content-Security-Policy')).toContain("script-src 'self'");
    expect(await page?.text()).toBe('<!doctype html><title>ok</title>');

    expect((await handler?.({ method: 'GET', url: 'app://renderer/missing.js' }))?.status).toBe(404);
    expect((await handler?.({ method: 'GET', url: 'app://renderer/..%2f..%2fetc%2fpasswd' }))?.status).toBe(404);
    expect((await handler?.({ method: 'POST', url: ENTRY }))?.status).toBe(405);
    const head = await handler?.({ method: 'HEAD', url: ENTRY });
    expect(head?.status).toBe(200);
    expect(await head?.text()).toBe('');
  });
});
