/**
 * The renderer is served from our own `app://renderer/` origin, never from `file://` or
 * the network. Every other rule in this folder is phrased against this one origin.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'renderer';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_PATH = '/index.html';
export const APP_ENTRY_URL = `${APP_ORIGIN}${APP_ENTRY_PATH}`;

/**
 * Privileges for `protocol.registerSchemesAsPrivileged`. `standard` and `secure` give the
 * page a real origin (storage, `window.location.origin`, secure-context APIs);
 * `supportFetchAPI` lets it fetch its own assets. Everything that would widen what the
 * page can do (bypassing CSP, CORS, service workers, streaming) stays off.
 */
export const APP_SCHEME_PRIVILEGES = Object.freeze({
  standard: true,
  secure: true,
  supportFetchAPI: true,
  bypassCSP: false,
  corsEnabled: false,
  allowServiceWorkers: false,
  stream: false,
  codeCache: false,
  allowExtensions: false,
});

/** Parses a URL, or returns null where it is not one. */
export function parseUrl(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/**
 * True for `app://renderer/...` and nothing else: no other host, no credentials, no port.
 * Chromium lower-cases the host of a standard scheme, so an upper-case host never comes
 * from our own pages and is refused rather than normalised.
 */
export function isAppUrl(url: string): boolean {
  const parsed = parseUrl(url);
  return (
    parsed !== null && parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST && parsed.username === '' && parsed.password === ''
  );
}
