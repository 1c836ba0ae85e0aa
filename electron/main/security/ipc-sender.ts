import { APP_ENTRY_PATH, isAppUrl, parseUrl } from './app-origin';

export interface IpcSender {
  /** URL of the frame that sent the message; null once that frame is gone. */
  frameUrl: string | null;
  isMainFrame: boolean;
  /** Whether the message came from the web contents of the window we created. */
  fromAppWindow: boolean;
}

/**
 * An IPC message is acted on only when it comes from the main frame of our own window
 * showing our own entry page. A sub-frame, a destroyed frame, or any other page (even
 * another one on the app origin) is ignored.
 */
export function isTrustedIpcSender({ frameUrl, isMainFrame, fromAppWindow }: IpcSender): boolean {
  if (!fromAppWindow || !isMainFrame || frameUrl === null || !isAppUrl(frameUrl)) return false;
  return parseUrl(frameUrl)?.pathname === APP_ENTRY_PATH;
}
