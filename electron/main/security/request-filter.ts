import { isAppUrl, parseUrl } from './app-origin';

/**
 * Every request the window's session makes goes to our own origin (or a `blob:`/`data:`
 * URL the page made itself), or to `devtools:` while developer tools are open. Anything
 * else (http, https, ws, file, ftp) is cancelled before it leaves the machine, as a
 * second wall behind the page's CSP.
 */
export function isAllowedRendererRequest(url: string): boolean {
  if (isAppUrl(url)) return true;
  const parsed = parseUrl(url);
  if (parsed === null) return false;
  switch (parsed.protocol) {
    case 'devtools:':
    case 'data:':
      return true;
    case 'blob:':
      return isAppUrl(parsed.pathname);
    default:
      return false;
  }
}
