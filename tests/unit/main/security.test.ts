import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_ENTRY_URL, APP_SCHEME_PRIVILEGES, isAppUrl } from '../../../electron/main/security/app-origin';
import { isTrustedIpcSender } from '../../../electron/main/security/ipc-sender';
import { isAllowedFrameNavigation, isAllowedNavigation } from '../../../electron/main/security/navigation';
import { permissionDecision } from '../../../electron/main/security/permissions';
import { isAllowedRendererRequest } from '../../../electron/main/security/request-filter';
import { buildWebPreferences } from '../../../electron/main/security/web-preferences';
import { windowOpenDecision } from '../../../electron/main/security/window-open';

const ENTRY = 'app://renderer/index.html';

describe('the app origin', () => {
  it('is app://renderer, entered at index.html', () => {
    expect(APP_ENTRY_URL).toBe(ENTRY);
  });

  it.each([ENTRY, 'app://renderer/', 'app://renderer/assets/app.js?v=2', 'app://renderer/index.html#/hosts/1'])('accepts %s', (url) => {
    expect(isAppUrl(url)).toBe(true);
  });

  it.each([
    'app://evil/index.html',
    'app://renderer.evil.example/index.html',
    'app://renderer:8080/index.html',
    'app://user:secret@renderer/index.html',
    'app://RENDERER/index.html',
    'app:renderer/index.html',
    'https://renderer/index.html',
    'http://localhost:5173/index.html',
    'file:///opt/sutazai/dist/renderer/index.html',
    'javascript:alert(1)',
    'about:blank',
    'not a url',
    '',
  ])('refuses %s', (url) => {
    expect(isAppUrl(url)).toBe(false);
  });

  it('is registered as standard, secure and fetchable, and gets no extra powers', () => {
    expect(APP_SCHEME_PRIVILEGES).toMatchObject({ standard: true, secure: true, supportFetchAPI: true });
    expect(APP_SCHEME_PRIVILEGES).toMatchObject({
      bypassCSP: false,
      corsEnabled: false,
      allowServiceWorkers: false,
      allowExtensions: false,
    });
  });
});

describe('navigation', () => {
  it('allows the page to reload itself and move its fragment', () => {
    expect(isAllowedNavigation(ENTRY, ENTRY)).toBe(true);
    expect(isAllowedNavigation(ENTRY, `${ENTRY}#/hosts`)).toBe(true);
    expect(isAllowedNavigation(`${ENTRY}#/hosts`, `${ENTRY}#/metrics`)).toBe(true);
  });

  it.each([
    'app://renderer/other.html',
    'app://renderer/index.html?debug=1',
    'app://evil/index.html',
    'https://example.com/',
    'http://127.0.0.1:8080/',
    'file:///etc/passwd',
    'data:text/html,<script>alert(1)</script>',
    'javascript:alert(1)',
    'about:blank',
    'not a url',
  ])('refuses a navigation from the app page to %s', (target) => {
    expect(isAllowedNavigation(ENTRY, target)).toBe(false);
  });

  it('refuses everything once the window shows something that is not the app', () => {
    expect(isAllowedNavigation('https://example.com/', ENTRY)).toBe(false);
    expect(isAllowedNavigation('about:blank', ENTRY)).toBe(false);
  });

  it('lets no sub-frame navigate, not even to the app page', () => {
    expect(isAllowedFrameNavigation({ currentUrl: ENTRY, targetUrl: ENTRY, isMainFrame: false })).toBe(false);
    expect(isAllowedFrameNavigation({ currentUrl: ENTRY, targetUrl: ENTRY, isMainFrame: true })).toBe(true);
    expect(isAllowedFrameNavigation({ currentUrl: ENTRY, targetUrl: 'https://example.com/', isMainFrame: true })).toBe(false);
  });
});

describe('IPC senders', () => {
  const trusted = { frameUrl: ENTRY, isMainFrame: true, fromAppWindow: true };

  it('trusts the main frame of our window on the entry page, whatever its fragment or query', () => {
    expect(isTrustedIpcSender(trusted)).toBe(true);
    expect(isTrustedIpcSender({ ...trusted, frameUrl: `${ENTRY}#/hosts/2` })).toBe(true);
    expect(isTrustedIpcSender({ ...trusted, frameUrl: `${ENTRY}?view=compact` })).toBe(true);
  });

  it('ignores a sub-frame, another window, or a frame that is gone', () => {
    expect(isTrustedIpcSender({ ...trusted, isMainFrame: false })).toBe(false);
    expect(isTrustedIpcSender({ ...trusted, fromAppWindow: false })).toBe(false);
    expect(isTrustedIpcSender({ ...trusted, frameUrl: null })).toBe(false);
  });

  it.each([
    'app://renderer/other.html',
    'app://evil/index.html',
    'https://renderer/index.html',
    'file:///opt/sutazai/dist/renderer/index.html',
    'about:blank',
    'devtools://devtools/bundled/inspector.html',
  ])('ignores a main frame showing %s', (frameUrl) => {
    expect(isTrustedIpcSender({ ...trusted, frameUrl })).toBe(false);
  });
});

describe('permissions and new windows', () => {
  it.each([
    'media',
    'notifications',
    'geolocation',
    'clipboard-read',
    'clipboard-sanitized-write',
    'openExternal',
    'fullscreen',
    'hid',
    'serial',
    'usb',
    'fileSystem',
    'a-permission-added-in-a-later-electron',
  ])('denies %s', (permission) => {
    expect(permissionDecision(permission)).toBe(false);
  });

  it.each([ENTRY, 'https://sutazai.example/docs', 'about:blank', ''])('opens no window for %s', (url) => {
    expect(windowOpenDecision(url)).toEqual({ action: 'deny' });
  });
});

describe('renderer requests', () => {
  it.each([
    ENTRY,
    'app://renderer/app.css',
    'devtools://devtools/bundled/inspector.html',
    'data:image/png;base64,AAAA',
    'blob:app://renderer/1b4e28ba',
  ])('lets %s through', (url) => {
    expect(isAllowedRendererRequest(url)).toBe(true);
  });

  it.each([
    'https://example.com/telemetry',
    'http://127.0.0.1:7410/api',
    'ws://127.0.0.1:7410/',
    'wss://example.com/',
    'file:///etc/passwd',
    'ftp://example.com/',
    'blob:https://example.com/1b4e28ba',
    'app://evil/index.html',
    'not a url',
  ])('cancels %s', (url) => {
    expect(isAllowedRendererRequest(url)).toBe(false);
  });
});

describe('webPreferences', () => {
  const prefs = buildWebPreferences({ preloadPath: '/opt/app/dist/preload/preload.cjs', devTools: false });

  it('isolates and sandboxes the page and gives it no Node', () => {
    expect(prefs.contextIsolation).toBe(true);
    expect(prefs.sandbox).toBe(true);
    expect(prefs.nodeIntegration).toBe(false);
    expect(prefs.nodeIntegrationInWorker).toBe(false);
    expect(prefs.nodeIntegrationInSubFrames).toBe(false);
  });

  it('keeps web security on and everything risky off', () => {
    expect(prefs.webSecurity).toBe(true);
    expect(prefs.allowRunningInsecureContent).toBe(false);
    expect(prefs.webviewTag).toBe(false);
    expect(prefs.experimentalFeatures).toBe(false);
    expect(prefs.navigateOnDragDrop).toBe(false);
    expect(prefs.spellcheck).toBe(false);
    expect(prefs.disableBlinkFeatures).toBe('Auxclick');
    expect(prefs).not.toHaveProperty('enableBlinkFeatures');
    expect(prefs).not.toHaveProperty('additionalArguments');
  });

  it('loads the given preload and follows the build for developer tools', () => {
    expect(prefs.preload).toBe('/opt/app/dist/preload/preload.cjs');
    expect(prefs.devTools).toBe(false);
    expect(buildWebPreferences({ preloadPath: '/p.cjs', devTools: true }).devTools).toBe(true);
  });
});

describe('the security rules', () => {
  it('import nothing from electron, so these tests exercise the real rules', () => {
    const dir = path.resolve(import.meta.dirname, '../../../electron/main/security');
    const files = readdirSync(dir).filter((name) => name.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      expect(readFileSync(path.join(dir, file), 'utf8'), file).not.toMatch(/from\s+['"]electron['"]|require\(\s*['"]electron['"]/);
    }
  });
});
