/**
 * The desktop app's sign-in through the provider (RFC 8252, "OAuth 2.0 for Native Apps"):
 * the system browser opens the provider's page and the provider sends the person back to a
 * listener on 127.0.0.1 at a port picked for this one sign-in (never `localhost`, which a
 * hosts file may point elsewhere). The listener answers one callback and closes; it takes
 * only GET /callback with Host 127.0.0.1:<port> and the attempt's state (anything else is a
 * 404 that leaves the sign-in waiting), and the attempt's binding never leaves this process (state and PKCE
 * do the rest: another program on this machine that reads the URL cannot trade the code
 * without the verifier).
 */
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError } from '../../contract';
import { ATTEMPT_TTL_MS, providerErrorCode, providerSignInFailed, type ProviderIdentity, type ProviderSignIn } from './oidc-sign-in';

export interface LoopbackSignIn<T> {
  /** The provider's URL the system browser is to open. */
  readonly url: string;
  /** What `accept` made of who signed in, once the browser came back (or why not). */
  readonly accepted: Promise<T>;
  /** Whether a callback was taken (the provider's answer came back): a sign-in that got none was no try at a password. */
  readonly calledBack: boolean;
  /** Stops waiting (the window closed, the app quits). */
  cancel(): void;
}

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'",
  'x-content-type-options': 'nosniff',
};

function page(title: string, text: string): string {
  const escape = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><meta charset="utf-8"><title>${escape(title)}</title><h1>${escape(title)}</h1><p>${escape(text)}</p>`;
}

/** Whether `given` is the secret, in time that does not depend on where they differ. */
function sameSecret(given: string, secret: Buffer): boolean {
  const bytes = Buffer.from(given);
  return bytes.length === secret.length && timingSafeEqual(bytes, secret);
}

/**
 * Starts a loopback listener and an attempt; `accepted` settles at the first callback (or
 * after ATTEMPT_TTL_MS). `accept` decides on the person the provider names (throws to refuse)
 * before the browser's page is answered, so the page says what the app decided.
 */
export async function startLoopbackSignIn<T>(
  provider: ProviderSignIn,
  accept: (identity: ProviderIdentity) => T,
  options: {
    ttlMs?: number;
    /** The browser tab's page for what `accept` made of it; undefined: "Signed in as <name>". */
    pageOf?: (value: T, identity: ProviderIdentity) => { title: string; text: string } | undefined;
  } = {},
): Promise<LoopbackSignIn<T>> {
  let settle: { resolve(value: T): void; reject(error: unknown): void } | undefined;
  const accepted = new Promise<T>((resolve, reject) => (settle = { resolve, reject }));
  // Awaited by whoever started it; a cancel after they stopped waiting must not be an unhandled rejection.
  accepted.catch(() => undefined);
  let answered = false;
  let calledBack = false;
  let binding = '';
  /** The attempt's state (known once begun): only a callback carrying it is taken. */
  let expectedState: Buffer | null = null;
  let expectedHost = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const state = url.searchParams.get('state') ?? '';
    // Another program on this machine, or a web page the browser shows, can reach this port:
    // what it sends must not end the sign-in. Only the browser coming back from the provider
    // (Host exactly 127.0.0.1:<port>, the attempt's state) is taken; anything else is a 404
    // and the listener goes on waiting.
    if (
      req.method !== 'GET' ||
      url.pathname !== '/callback' ||
      answered ||
      req.headers.host !== expectedHost ||
      expectedState === null ||
      !sameSecret(state, expectedState)
    ) {
      res.writeHead(404, PAGE_HEADERS).end(page('Not found', 'Nothing is served here.'));
      return;
    }
    answered = true;
    calledBack = true;
    const code = url.searchParams.get('code');
    const providerError = url.searchParams.get('error');
    const result: Promise<{ who: ProviderIdentity; value: T }> =
      providerError !== null
        ? Promise.reject(providerSignInFailed(`the provider answered ${providerErrorCode(providerError)}.`))
        : code === null
          ? Promise.reject(providerSignInFailed('the provider sent no code.'))
          : provider.complete({ state, code, binding }).then((who) => ({ who, value: accept(who) }));
    result.then(
      ({ who, value }) => {
        const shown = options.pageOf?.(value, who) ?? {
          title: 'Signed in',
          text: `Signed in as ${who.operatorName}. You can close this tab and return to SutazAI Control Center.`,
        };
        res.writeHead(200, PAGE_HEADERS).end(page(shown.title, shown.text));
        finish(() => settle!.resolve(value));
      },
      (error: unknown) => {
        const message = error instanceof ApiError ? error.message : 'The sign-in failed.';
        res.writeHead(400, PAGE_HEADERS).end(page('Not signed in', `${message} Return to SutazAI Control Center and try again.`));
        finish(() => settle!.reject(error));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const timer = setTimeout(
    () => finish(() => settle!.reject(providerSignInFailed('no answer came back from the browser within 5 minutes.'))),
    options.ttlMs ?? ATTEMPT_TTL_MS,
  );
  timer.unref();
  function finish(then: () => void): void {
    clearTimeout(timer);
    answered = true;
    server.close();
    server.closeIdleConnections();
    then();
  }
  const { port } = server.address() as AddressInfo;
  expectedHost = `127.0.0.1:${port}`;
  let begun: { url: string; state: string; binding: string };
  try {
    begun = await provider.begin(`http://127.0.0.1:${port}/callback`, 'desktop');
  } catch (error) {
    finish(() => undefined);
    throw error;
  }
  binding = begun.binding;
  expectedState = Buffer.from(begun.state);
  return {
    url: begun.url,
    accepted,
    get calledBack() {
      return calledBack;
    },
    cancel: () => {
      if (!server.listening) return;
      finish(() => settle!.reject(providerSignInFailed('it was cancelled.')));
    },
  };
}
