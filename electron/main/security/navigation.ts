import { isAppUrl, parseUrl } from './app-origin';

/**
 * The window shows one page for its whole life. The only navigations allowed are the
 * page reloading itself and moving its own `#fragment` (the renderer's router); every
 * other target, including other pages of our own origin, is refused.
 */
export function isAllowedNavigation(currentUrl: string, targetUrl: string): boolean {
  if (!isAppUrl(currentUrl) || !isAppUrl(targetUrl)) return false;
  const current = parseUrl(currentUrl);
  const target = parseUrl(targetUrl);
  if (current === null || target === null) return false;
  return current.pathname === target.pathname && current.search === target.search;
}

export interface FrameNavigation {
  /** The URL the window's main frame shows now. */
  currentUrl: string;
  targetUrl: string;
  isMainFrame: boolean;
}

/** Sub-frames have no business navigating at all: the CSP allows none to exist. */
export function isAllowedFrameNavigation({ currentUrl, targetUrl, isMainFrame }: FrameNavigation): boolean {
  return isMainFrame && isAllowedNavigation(currentUrl, targetUrl);
}
