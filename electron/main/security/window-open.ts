/**
 * `window.open`, `target=_blank` links and similar never create a window, and nothing is
 * handed to the operating system either (no `shell.openExternal`): an offline operator
 * console has no reason to launch a browser, and a compromised page must not be able to.
 * (The one browser the app opens is for signing in through the site's provider, asked by
 * the backend over its parent port, never by the page: main.ts, onOpenExternal.)
 */
export function windowOpenDecision(_url: string): { action: 'deny' } {
  return { action: 'deny' };
}
