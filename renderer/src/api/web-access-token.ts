import { isWellFormedAccessToken } from '../../../electron/contract';

/** This tab's copy of the token: sessionStorage is per origin (port included) and per tab. */
const STORAGE_KEY = 'sutazai.accessToken';

export interface TokenWindow {
  location: Pick<Location, 'pathname' | 'search' | 'hash'>;
  history: Pick<History, 'replaceState' | 'state'>;
  sessionStorage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
}

/**
 * The web-mode access token of this tab. The address `npm run web` printed carries it
 * once (`?token=`): it is moved into this tab's sessionStorage and dropped from the
 * address bar and the history entry, so it is neither shown, bookmarked nor sent again.
 * A reload finds it in sessionStorage; a new tab has none until it is opened with the
 * printed address. Returns null when this tab has no (well-formed) token.
 */
export function takeAccessToken(win: TokenWindow): string | null {
  const params = new URLSearchParams(win.location.search);
  const fromAddress = params.get('token');
  if (fromAddress !== null) {
    params.delete('token');
    const search = params.toString();
    win.history.replaceState(win.history.state, '', `${win.location.pathname}${search ? `?${search}` : ''}${win.location.hash}`);
    if (isWellFormedAccessToken(fromAddress)) {
      win.sessionStorage.setItem(STORAGE_KEY, fromAddress);
      return fromAddress;
    }
    // A mangled copy (cut short, wrapped by a terminal) must not leave an older token in charge.
    win.sessionStorage.removeItem(STORAGE_KEY);
    return null;
  }
  const kept = win.sessionStorage.getItem(STORAGE_KEY);
  return kept !== null && isWellFormedAccessToken(kept) ? kept : null;
}

/** The token this tab holds now (taken earlier by takeAccessToken), or null; changes nothing. */
export function currentAccessToken(win: Pick<TokenWindow, 'sessionStorage'>): string | null {
  const kept = win.sessionStorage.getItem(STORAGE_KEY);
  return kept !== null && isWellFormedAccessToken(kept) ? kept : null;
}

/** Forgets the token of this tab (the server refused it: web mode was restarted with a new one). */
export function forgetAccessToken(win: Pick<TokenWindow, 'sessionStorage'>): void {
  win.sessionStorage.removeItem(STORAGE_KEY);
}
