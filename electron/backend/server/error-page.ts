import { createHash } from 'node:crypto';
import type { ApiErrorBody } from '../../contract';
import { RENDERER_CSP, RENDERER_SECURITY_HEADERS } from '../../shared-node/content-security-policy';

/**
 * The page web mode answers a person with when it will not serve the app (a name other
 * than 127.0.0.1/localhost, a path that is not the app's). It is styled by one inline
 * sheet that its own Content-Security-Policy allows by hash: a linked sheet would be
 * refused along with the page when the address is what was wrong, and the renderer's
 * CSP allows no inline style at all.
 */

const ERROR_PAGE_CSS = `
:root { color-scheme: light dark; --bg: #f5f6f8; --surface: #fff; --border: #dde1e6; --text: #1b1f24; --muted: #5d6670;
  --danger: #c2272d; --danger-soft: #fdecec; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0f1216; --surface: #161a20; --border: #2a3038; --text: #e4e8ed; --muted: #98a2ad; --danger: #f0686d; --danger-soft: #2a1718; }
}
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; padding: 24px; background: var(--bg); color: var(--text);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 560px; width: 100%; background: var(--surface); border: 1px solid var(--border); border-radius: 8px; padding: 24px 28px; }
h1 { font-size: 16px; margin: 0 0 4px; color: var(--muted); font-weight: 600; }
h2 { font-size: 20px; margin: 0 0 16px; }
.notice { background: var(--danger-soft); border: 1px solid var(--danger); border-radius: 6px; padding: 12px 16px; }
.notice p { margin: 0 0 6px; }
.remedy { color: var(--muted); }
.code { font: 12px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; color: var(--muted); margin: 0; }
`;

/** The renderer's policy with one change: this page's inline sheet, by its hash, is the only style allowed. */
const ERROR_PAGE_CSP = RENDERER_CSP.replace(
  "style-src 'self'",
  `style-src 'sha256-${createHash('sha256').update(ERROR_PAGE_CSS, 'utf8').digest('base64')}'`,
);

/** The headers an error page goes out with: the renderer's, with the page's own policy. */
export const ERROR_PAGE_HEADERS: Readonly<Record<string, string>> = {
  ...RENDERER_SECURITY_HEADERS,
  'Content-Security-Policy': ERROR_PAGE_CSP,
};

const STATUS_TITLES: Record<number, string> = {
  403: 'This address is not served',
  404: 'Nothing is served here',
  500: 'The request failed',
};

/**
 * `back`: a link to where the person starts again (a refused provider sign-in: the sign-in
 * page), fixed by the caller, never taken from the request.
 */
export function errorPage(status: number, body: ApiErrorBody, back?: { href: '/'; label: string }): string {
  const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const title = STATUS_TITLES[status] ?? `Refused (${status})`;
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
    `<title>${escape(title)} · SutazAI Control Center</title><style>${ERROR_PAGE_CSS}</style></head>` +
    `<body><main><h1>SutazAI Control Center</h1><h2>${escape(title)}</h2>` +
    `<div class="notice" role="alert"><p>${escape(body.message)}</p><p class="remedy">${escape(body.remedy)}</p>` +
    `<p class="code">${escape(body.code)} · HTTP ${status}</p></div>` +
    (back ? `<p><a href="${back.href}">${escape(back.label)}</a></p>` : '') +
    `</main></body></html>`
  );
}
