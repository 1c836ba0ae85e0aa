import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useApiClient } from '../api/api-context';
import { apiKey } from '../api/queries';
import { ErrorNotice } from '../ui/query-state';

/**
 * "Sign in with <provider>" in web mode for a team: a plain link to /oidc/start, which sends
 * the browser to the site's OpenID Connect provider and back (the server keeps the state,
 * nonce and PKCE verifier; the page holds none of them). Shown only when the server has a
 * provider set up (GET /oidc/provider, asked before any socket exists).
 */
export function TeamProviderSignIn() {
  const [name, setName] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    fetch('/oidc/provider', { credentials: 'same-origin', cache: 'no-store' })
      .then((response) => (response.ok ? (response.json() as Promise<{ displayName?: unknown }>) : null))
      .then((body) => {
        if (live && typeof body?.displayName === 'string') setName(body.displayName);
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);
  if (name === null) return null;
  return (
    <div className="provider-sign-in">
      <a className="button" href="/oidc/start" data-testid="provider-sign-in">
        Sign in with {name}
      </a>
    </div>
  );
}

/**
 * The desktop app's "Sign in with <provider>": the backend opens the provider's page in the
 * system browser and waits for it on 127.0.0.1 (session.signInWithProvider), at most 5 minutes.
 */
export function DesktopProviderSignIn() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  const [name, setName] = useState<string | null>(null);
  const [waiting, setWaiting] = useState(false);
  const [refusal, setRefusal] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    client
      .call('session.provider', {})
      .then((provider) => live && setName(provider.displayName))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [client]);
  if (name === null) return null;
  const signIn = async () => {
    setWaiting(true);
    setRefusal(null);
    try {
      const session = await client.call('session.signInWithProvider', {});
      queryClient.setQueryData(apiKey('session.whoami', {}), session);
      await queryClient.invalidateQueries();
    } catch (error) {
      setRefusal(error);
    } finally {
      setWaiting(false);
    }
  };
  return (
    <div className="provider-sign-in">
      <button type="button" className="button" disabled={waiting} onClick={() => void signIn()} data-testid="provider-sign-in">
        {waiting ? `Finish signing in with ${name} in your browser…` : `Sign in with ${name}`}
      </button>
      {refusal !== null ? <ErrorNotice title="Not signed in" error={refusal} /> : null}
    </div>
  );
}
