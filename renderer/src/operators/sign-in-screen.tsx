import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, type ProviderSecondStep } from '../../../electron/contract';
import { useApiClient } from '../api/api-context';
import { apiKey } from '../api/queries';
import { isTeamWebMode, signInOverHttps } from '../api/web-team-session';
import { FormField } from '../ui/form-field';
import { ErrorNotice } from '../ui/query-state';
import { inBrowser } from '../api/browser-files';
import { TeamForcedEnrolment, useWaitingEnrolment } from './forced-enrolment';
import {
  DesktopProviderSignIn,
  DesktopSecondStep,
  TeamProviderSignIn,
  TeamSecondStep,
  useDesktopProvider,
  useTeamProvider,
} from './provider-sign-in';

type SignIn = (params: { name: string; password: string; code?: string }) => Promise<void>;

/**
 * This control center has operators, and this window has not signed in as one. Each window
 * (each browser tab in loopback web mode) signs in on its own connection; in web mode for a
 * team the browser signs in over HTTPS and gets a session (web-team-session.ts).
 */
export function SignInScreen() {
  const queryClient = useQueryClient();
  const client = useApiClient();
  const overConnection: SignIn = async (params) => {
    const session = await client.call('session.signIn', params);
    // Only web mode for a team's sign-in page is walked through an enrolment (over HTTPS, not this connection).
    if ('enrolment' in session)
      throw new ApiError('INTERNAL', 'The sign-in asked for a two-factor set-up on a connection that cannot show it.', 'Sign in again.');
    queryClient.setQueryData(apiKey('session.whoami', {}), session);
    // Whatever was asked before signing in was refused: ask again as this operator.
    await queryClient.invalidateQueries();
  };
  const team = isTeamWebMode();
  // Loopback web mode (a browser on this machine) has no way back from the provider: no button there.
  const desktopProvider = useDesktopProvider(!team && !inBrowser());
  // The desktop app's provider sign-in that waits for the operator's two-factor code.
  const [secondStep, setSecondStep] = useState<ProviderSecondStep | null>(null);
  if (team) return <TeamSignInScreen />;
  if (desktopProvider !== null && secondStep !== null)
    return <DesktopSecondStep providerName={desktopProvider} step={secondStep} onEnd={() => setSecondStep(null)} />;
  return (
    <SignInForm
      signIn={overConnection}
      providerName={desktopProvider}
      provider={desktopProvider === null ? null : <DesktopProviderSignIn name={desktopProvider} onSecondStep={setSecondStep} />}
    />
  );
}

/**
 * Web mode for a team, before any connection: the server opens the API socket only for a
 * signed-in browser. A browser back from the provider with a sign-in that waits for the
 * two-factor code is asked for it instead; one whose sign-in waits for a two-factor set-up
 * (web mode requires it, the operator has none) is walked through it.
 */
export function TeamSignInScreen() {
  const provider = useTeamProvider();
  const enrolment = useWaitingEnrolment();
  // Until the server said whether it has a provider (the page's words depend on it) and whether a set-up waits.
  if (provider === null || enrolment === null)
    return (
      <div className="splash">
        <span className="spinner" aria-hidden="true" />
      </div>
    );
  // A right password (or provider sign-in) of an operator without two-factor sign-in, where web mode requires it.
  if (enrolment) return <TeamForcedEnrolment />;
  const { displayName, secondStep } = provider;
  if (displayName !== null && secondStep) return <TeamSecondStep providerName={displayName} />;
  return (
    <SignInForm
      signIn={signInOverHttps}
      providerName={displayName}
      provider={displayName === null ? null : <TeamProviderSignIn name={displayName} />}
    />
  );
}

/**
 * A name and a password, nothing else; then, for an operator with two-factor sign-in
 * (MFA_REQUIRED), the code too. The password and code live only in this form's state and
 * the sign-in request.
 */
function SignInForm({ signIn, providerName, provider }: { signIn: SignIn; providerName: string | null; provider: ReactNode }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [askCode, setAskCode] = useState(false);
  const [pending, setPending] = useState(false);
  const [refusal, setRefusal] = useState<unknown>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setPending(true);
    setRefusal(null);
    try {
      await signIn({ name: name.trim(), password, ...(askCode ? { code: code.trim() } : {}) });
    } catch (error) {
      setCode('');
      setPending(false);
      // Asked for a code: the password was right, kept for the second step; any other refusal starts over.
      if (error instanceof ApiError && error.code === 'MFA_REQUIRED') {
        setAskCode(true);
        return;
      }
      setPassword('');
      setAskCode(false);
      setRefusal(error);
    }
  };

  return (
    <div className="splash">
      <form className="splash-card sign-in" data-testid="sign-in" onSubmit={(event) => void submit(event)}>
        <h1>Sign in</h1>
        {providerName === null ? (
          <p>This control center has operators: sign in with your name and password. What you may do follows from your role.</p>
        ) : (
          <>
            <p>
              This control center has operators: sign in with {providerName}, or with your operator name and password. What you may do
              follows from your role.
            </p>
            {provider}
            <p className="sign-in-or">Or with your name and password:</p>
          </>
        )}
        <FormField label="Name">
          <input
            className="input"
            name="operator"
            autoComplete="username"
            autoFocus
            required
            value={name}
            onChange={(event) => setName(event.target.value)}
          />
        </FormField>
        <FormField label="Password">
          <input
            className="input"
            type="password"
            name="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </FormField>
        {askCode ? (
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
        ) : null}
        {refusal !== null ? <ErrorNotice title="Not signed in" error={refusal} /> : null}
        <div className="actions">
          <button
            type="submit"
            className="button button-primary"
            disabled={pending || name.trim() === '' || password === '' || (askCode && code.trim() === '')}
          >
            {pending ? 'Signing in…' : 'Sign in'}
          </button>
        </div>
      </form>
    </div>
  );
}
