import { contentTypeFor, resolveStaticPath } from '../../shared-node/static-path';
import { APP_HOST, APP_SCHEME, parseUrl } from './app-origin';

export type AppRequestPlan = { kind: 'file'; filePath: string; contentType: string } | { kind: 'refuse'; status: 404 | 405 };

/**
 * What the `app:` protocol answers for one request: a file below the renderer's build
 * folder for a GET or HEAD on `app://renderer/...`, a 404 for any other host or any
 * path that would leave that folder, a 405 for other methods.
 */
export function planAppRequest(rendererDir: string, request: { method: string; url: string }): AppRequestPlan {
  const method = request.method.toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') return { kind: 'refuse', status: 405 };
  const url = parseUrl(request.url);
  if (url === null || url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return { kind: 'refuse', status: 404 };
  if (url.username !== '' || url.password !== '') return { kind: 'refuse', status: 404 };
  // `url.pathname` keeps percent-escapes as sent; resolveStaticPath decodes them once and
  // refuses `..`, encoded separators, NUL bytes and backslashes.
  const filePath = resolveStaticPath(rendererDir, url.pathname);
  if (filePath === null) return { kind: 'refuse', status: 404 };
  return { kind: 'file', filePath, contentType: contentTypeFor(filePath) };
}
