import type { Session, WebContents } from 'electron';
import { isAllowedFrameNavigation, isAllowedNavigation } from './security/navigation';
import { permissionDecision } from './security/permissions';
import { isAllowedRendererRequest } from './security/request-filter';
import { windowOpenDecision } from './security/window-open';

/**
 * Wires the pure rules of `./security` to every web contents the app creates: no new
 * windows, no navigation away from the app page, no <webview>.
 */
export function hardenWebContents(contents: WebContents): void {
  contents.setWindowOpenHandler(({ url }) => {
    console.warn(`[shell] refused to open a window for ${url}`);
    return windowOpenDecision(url);
  });
  contents.on('will-navigate', (event) => {
    if (!isAllowedNavigation(contents.getURL(), event.url)) {
      event.preventDefault();
      console.warn(`[shell] refused navigation to ${event.url}`);
    }
  });
  contents.on('will-frame-navigate', (event) => {
    if (!isAllowedFrameNavigation({ currentUrl: contents.getURL(), targetUrl: event.url, isMainFrame: event.isMainFrame })) {
      event.preventDefault();
      console.warn(`[shell] refused frame navigation to ${event.url}`);
    }
  });
  contents.on('will-redirect', (event) => {
    if (!isAllowedNavigation(contents.getURL(), event.url)) {
      event.preventDefault();
      console.warn(`[shell] refused redirect to ${event.url}`);
    }
  });
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
  });
}

/** Denies every permission request and check, and cancels every request off the app origin. */
export function hardenSession(session: Session): void {
  session.setPermissionRequestHandler((_contents, permission, callback) => {
    callback(permissionDecision(permission));
  });
  session.setPermissionCheckHandler((_contents, permission) => permissionDecision(permission));
  session.setDevicePermissionHandler((details) => permissionDecision(details.deviceType));
  session.webRequest.onBeforeRequest((details, callback) => {
    const allowed = isAllowedRendererRequest(details.url);
    if (!allowed) console.warn(`[shell] cancelled request to ${details.url}`);
    callback({ cancel: !allowed });
  });
}
