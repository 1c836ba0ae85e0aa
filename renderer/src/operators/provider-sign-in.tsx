import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, type ProviderSecondStep } from '../../../electron/contract';
import { useApiClient } from '../api/api-context';
import { apiKey } from '../api/queries';
import { cancelSecondStep, secondStepOverHttps } from '../api/web-team-session';
import { FormField } from '../ui/form-field';
import { ErrorNotice } from '../ui/query-state';

/** What the team server says of its provider (GET /oidc/provider), or null while it is asked. */
export interface TeamProvider {
  /** The button's words (the provider's display name), or null: no provider sign-in here. */
  displayName: string | null;
  /** This browser came back from the provider and its sign-in waits for the two-factor code. */
  secondStep: boolean;
}

/**
 * Asks the team server whether it signs people in through a provider, before any socket
 * exists (the page is not signed in). A failed answer counts as no provider: the password form
 * still works.
 */
export function useTeamProvider(): TeamProvider | null {
  const [provider, setProvider] = useState<TeamProvider | null>(null);
  useEffect(() => {
    let live = true;
    fetch('/oidc/provider', { credentials: 'same-origin', cache: 'no-store' })
      .then((response) => (response.ok ? (response.json() as Promise<{ displayName?: unknown; secondStep?: unknown }>) : null))
      .catch(() => null)
      .then((body) => {
        if (!live) return;
        const displayName = typeof body?.displayName === 'string' ? body.displayName : null;
        setProvider({ displayName, secondStep: displayName !== null && body?.secondStep === true });
      });
    return () => {
      live = false;
    };
  }, []);
  return provider;
}

/**
 * "Sign in with <provider>" in web mode for a team: a plain link to /oidc/start, which sends
 * the browser to the site's OpenID Connect provider and back (the server keeps the state,
 * nonce and PKCE verifier; the page holds none of them).
 */
export function TeamProviderSignIn({ name }: { name: string }) {
  return (
    <div className="provider-sign-in">
      <a className="button" href="/oidc/start" data-testid="provider-sign-in">
        Sign in with {name}
      </a>
    </div>
  );
}

/**
 * The second step of a sign-in through the provider in web mode: the ticket is in this
 * browser's HttpOnly cookie; "Sign in another way" ends it on the server and starts the page over.
 */
export function TeamSecondStep({ providerName }: { providerName: string }) {
  const startAgain = async () => {
    await cancelSecondStep().catch(() => undefined);
    window.location.reload();
  };
  return <SecondStepForm providerName={providerName} operator={null} send={secondStepOverHttps} startAgain={startAgain} />;
}

/**
 * The second step of the desktop app's sign-in through the provider: the ticket is bound to
 * this window's pipe (no other pipe may answer or cancel it). "Sign in another way" ends it on
 * the backend and shows the sign-in form again (`onEnd`).
 */
export function DesktopSecondStep({ providerName, step, onEnd }: { providerName: string; step: ProviderSecondStep; onEnd: () => void }) {
  const client = useApiClient();
  const queryClient = useQueryClient();
  const send = async (code: string) => {
    const session = await client.call('session.completeProviderSecondStep', { ticket: step.ticket, code });
    queryClient.setQueryData(apiKey('session.whoami', {}), session);
    await queryClient.invalidateQueries();
  };
  const startAgain = async () => {
    await client.call('session.cancelProviderSecondStep', { ticket: step.ticket }).catch(() => undefined);
    onEnd();
  };
  return <SecondStepForm providerName={providerName} operator={step.operator} send={send} startAgain={startAgain} />;
}

/**
 * The second step of a sign-in through the provider (web mode and the desktop app): the
 * provider did not say it asked for a second factor, and the operator has two-factor sign-in
 * here, so the session starts only after this control center's own code. A wrong or used code
 * may be typed again (a few times: each counts like a wrong password); anything else ends this sign-in.
 */
function SecondStepForm({
  providerName,
  operator,
  send,
  startAgain,
}: {
  providerName: string;
  /** Who the provider signed in, where the page may say it (the desktop app's own window). */
  operator: string | null;
  send: (code: string) => Promise<void>;
  startAgain: () => Promise<void>;
}) {
  const [code, setCode] = useState('');
  const [pending, setPending] = useState(false);
  const [refusal, setRefusal] = useState<unknown>(null);
  const [ended, setEnded] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setPending(true);
    setRefusal(null);
    try {
      await send(code.trim());
    } catch (error) {
      setCode('');
      setPending(false);
      setRefusal(error);
      // A wrong code, or a wait: the same sign-in takes the next code. Anything else: start again.
      if (!(error instanceof ApiError && (error.code === 'SIGN_IN_FAILED' || error.code === 'SIGN_IN_THROTTLED'))) setEnded(true);
    }
  };
  return (
    <div className="splash">
      <form className="splash-card sign-in" data-testid="second-step" onSubmit={(event) => void submit(event)}>
        <h1>Two-factor code</h1>
        <p>
          You signed in at {providerName}
          {operator === null ? '' : ` as ${operator}`}. Your operator also has two-factor sign-in on this control center: type your code to
          finish signing in.
        </p>
        {ended ? null : (
          <FormField label="Two-factor code" hint="The 6 digits your authenticator app shows now, or one of your recovery codes.">
            <input
              className="input mono"
              name="code"
              autoComplete="one-time-code"
              inputMode="numeric"
              autoFocus
              required
              maxLength={64}
              value={code}
              onChange={(event) => setCode(event.target.value)}
            />
          </FormField>
        )}
        {refusal !== null ? <ErrorNotice title="Not signed in" error={refusal} /> : null}
        <div className="actions">
          {ended ? null : (
            <button type="submit" className="button button-primary" disabled={pending || code.trim() === ''}>
              {pending ? 'Signing in…' : 'Sign in'}
            </button>
          )}
          <button type="button" className="button" onClick={() => void startAgain()}>
            {ended ? 'Back to sign-in' : 'Sign in another way'}
          </button>
        </div>
      </form>
    </div>
  );
}

/** The desktop app's provider: its name for the button, or null (none, or not answered yet). */
export function useDesktopProvider(enabled: boolean): string | null {
  const client = useApiClient();
  const [name, setName] = useState<string | null>(null);
  useEffect(() => {
    if (!enabled) return;
    let live = true;
    client
      .call('session.provider', {})
      .then((provider) => live && setName(provider.displayName))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [client, enabled]);
  return enabled ? name : null;
}

/**
 * The desktop app's "Sign in with <provider>": the backend opens the provider's page in the
 * system browser and waits for it on 127.0.0.1 (session.signInWithProvider), at most 5 minutes.
 * When the operator's two-factor code must follow, `onSecondStep` gets the waiting sign-in.
 */
export function DesktopProviderSignIn({ name, onSecondStep }: { name: string; onSecondStep: (step: ProviderSecondStep) => void }) {
  const client = useApiClient();
  const queryClient = useQueryClient();
  const [waiting, setWaiting] = useState(false);
  const [refusal, setRefusal] = useState<unknown>(null);
  const signIn = async () => {
    setWaiting(true);
    setRefusal(null);
    try {
      const answer = await client.call('session.signInWithProvider', {});
      if ('secondStep' in answer) {
        onSecondStep(answer.secondStep);
        return;
      }
      queryClient.setQueryData(apiKey('session.whoami', {}), answer);
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
