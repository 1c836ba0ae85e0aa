import { protocol } from 'electron';
import { readFile } from 'node:fs/promises';
import { RENDERER_SECURITY_HEADERS } from '../shared-node/content-security-policy';
import { APP_SCHEME, APP_SCHEME_PRIVILEGES } from './security/app-origin';
import { planAppRequest } from './security/app-request';

/** Must run before the app's `ready` event: Chromium reads scheme privileges at startup. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { ...APP_SCHEME_PRIVILEGES } }]);
}

/**
 * Serves the built renderer (`dist/renderer`) on `app://renderer/`. Only files below that
 * folder are ever read; everything else is a 404, and every answer, errors included,
 * carries the renderer's CSP and security headers.
 */
export function handleAppProtocol(rendererDir: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const plan = planAppRequest(rendererDir, { method: request.method, url: request.url });
    if (plan.kind === 'refuse') return textResponse(plan.status);
    let body: Buffer;
    try {
      body = await readFile(plan.filePath);
    } catch {
      return textResponse(404); // missing file or a directory
    }
    const headers = { ...RENDERER_SECURITY_HEADERS, 'Content-Type': plan.contentType, 'Cache-Control': 'no-cache' };
    return new Response(request.method.toUpperCase() === 'HEAD' ? null : new Uint8Array(body), { status: 200, headers });
  });
}

function textResponse(status: 404 | 405): Response {
  const text = status === 404 ? 'Not found' : 'Method not allowed';
  return new Response(text, {
    status,
    headers: { ...RENDERER_SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' },
  });
}
