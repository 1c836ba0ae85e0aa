// The desktop app's loopback listener (oidc-loopback.ts) takes only the browser coming back
// from the provider: GET /callback with Host 127.0.0.1:<port> and the attempt's state. What
// another program or a web page sends first is a 404 and the sign-in goes on waiting.
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { startLoopbackSignIn } from '../../../electron/backend/oidc/oidc-loopback';
import type { ProviderSignIn } from '../../../electron/backend/oidc/oidc-sign-in';

function get(url: string, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, host === undefined ? {} : { headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
  });
}

describe('loopback listener', () => {
  it('answers 404 to a wrong state, a wrong Host and other paths without ending the sign-in, then takes the real callback', async () => {
    const completed: string[] = [];
    const provider: ProviderSignIn = {
      displayName: 'Test',
      begin: (redirectUri) =>
        Promise.resolve({
          url: `https://idp.example/auth?redirect_uri=${encodeURIComponent(redirectUri)}`,
          state: 'the-real-state',
          binding: 'b',
        }),
      complete: ({ state, code }) => {
        completed.push(`${state} ${code}`);
        return Promise.resolve({ operatorName: 'ada', multiFactor: false, issuer: 'https://idp.example', subject: 's' });
      },
    };
    const loopback = await startLoopbackSignIn(provider, (who) => who.operatorName);
    try {
      const callback = new URL(loopback.url).searchParams.get('redirect_uri')!;
      const port = new URL(callback).port;
      expect(await get(`${callback}?state=garbage&code=x`)).toBe(404);
      expect(await get(`${callback}?code=x`)).toBe(404);
      expect(await get(`${callback}?state=the-real-state&code=x`, 'attacker.example')).toBe(404);
      expect(await get(`${callback}?state=the-real-state&code=x`, `localhost:${port}`)).toBe(404);
      expect(await get(`http://127.0.0.1:${port}/other?state=the-real-state&code=x`)).toBe(404);
      expect(completed).toEqual([]);
      expect(await get(`${callback}?state=the-real-state&code=real`)).toBe(200);
      expect(await loopback.accepted).toBe('ada');
      expect(completed).toEqual(['the-real-state real']);
    } finally {
      loopback.cancel();
    }
  });
});
