import { describe, expect, it } from 'vitest';
import { forgetAccessToken, takeAccessToken, type TokenWindow } from '../../../renderer/src/api/web-access-token';

/** A tab: its address, its history entry, its sessionStorage. */
function tab(address: string) {
  const url = new URL(address);
  const storage = new Map<string, string>();
  const replaced: string[] = [];
  const win: TokenWindow = {
    location: url,
    history: {
      state: { kept: true },
      replaceState(_state: unknown, _unused: string, next?: string | URL | null) {
        replaced.push(String(next));
        const moved = new URL(String(next), url);
        url.search = moved.search;
        url.hash = moved.hash;
      },
    },
    sessionStorage: {
      getItem: (key) => storage.get(key) ?? null,
      setItem: (key, value) => void storage.set(key, value),
      removeItem: (key) => void storage.delete(key),
    },
  };
  return { win, url, replaced, storage };
}

const TOKEN = 'q1w2e3r4t5y6u7i8o9p0-_AZ';

describe('takeAccessToken', () => {
  it('moves the token from the address into this tab and drops it from the address, keeping the rest', () => {
    const t = tab(`http://127.0.0.1:5000/?token=${TOKEN}&x=1#/hosts/2`);
    expect(takeAccessToken(t.win)).toBe(TOKEN);
    expect(t.replaced).toEqual(['/?x=1#/hosts/2']);
    expect(t.url.href).not.toContain(TOKEN);
    // A reload: the address has no token now, the tab still has it.
    expect(takeAccessToken(t.win)).toBe(TOKEN);
    expect(t.replaced).toHaveLength(1);
  });

  it('leaves an address without a token alone, and has none in a new tab', () => {
    const t = tab('http://127.0.0.1:5000/#/hosts');
    expect(takeAccessToken(t.win)).toBeNull();
    expect(t.replaced).toEqual([]);
  });

  it('refuses a mangled token, dropping it from the address and forgetting an older one', () => {
    const t = tab(`http://127.0.0.1:5000/?token=${TOKEN}`);
    takeAccessToken(t.win);
    t.url.search = '?token=short%20one';
    expect(takeAccessToken(t.win)).toBeNull();
    expect(t.url.search).toBe('');
    expect(t.storage.size).toBe(0);
  });

  it('forgets a refused token', () => {
    const t = tab(`http://127.0.0.1:5000/?token=${TOKEN}`);
    takeAccessToken(t.win);
    forgetAccessToken(t.win);
    expect(takeAccessToken(t.win)).toBeNull();
  });
});
