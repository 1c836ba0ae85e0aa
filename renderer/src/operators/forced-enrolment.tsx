import QRCode from 'qrcode';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError } from '../../../electron/contract';
import { beginEnrolment, cancelEnrolment, confirmEnrolment, enrolmentWaiting } from '../api/web-team-session';
import { FormField } from '../ui/form-field';
import { ErrorNotice } from '../ui/query-state';
import { RecoveryCodes } from './my-two-factor';

/** Whether this browser holds a two-factor set-up waiting from its sign-in (null while the server is asked). */
export function useWaitingEnrolment(): boolean | null {
  const [waiting, setWaiting] = useState<boolean | null>(null);
  useEffect(() => {
    let live = true;
    void enrolmentWaiting().then((answer) => live && setWaiting(answer));
    return () => {
      live = false;
    };
  }, []);
  return waiting;
}

type Secret = Awaited<ReturnType<typeof beginEnrolment>>;

/**
 * Web mode for a team requires two-factor sign-in, and the operator who just signed in (the
 * password, or the provider) has none: before any session, they set it up here. The server
 * makes the secret (shown once; a reload makes a new one, which replaces it), the first code
 * confirms it and signs the browser in, and the ten recovery codes are shown once before the app
 * opens. A wrong code may be typed again (5 in all, each counted like a wrong password);
 * anything else ends this set-up, and "Sign in another way" ends it on the server too.
 */
export function TeamForcedEnrolment() {
  const [secret, setSecret] = useState<Secret | null>(null);
  const [qr, setQr] = useState<string | null>(null);
  const [code, setCode] = useState('');
  const [pending, setPending] = useState(false);
  const [refusal, setRefusal] = useState<unknown>(null);
  const [ended, setEnded] = useState(false);
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);
  // One secret per page shown: each request makes a new one and the last the server handles is the one it keeps, so two
  // (StrictMode runs this effect twice in development) could leave the page showing the one the server replaced.
  const asked = useRef<Promise<Secret> | null>(null);

  useEffect(() => {
    let live = true;
    asked.current ??= beginEnrolment();
    asked.current
      .then(async (begun) => {
        if (!live) return;
        setSecret(begun);
        const svg = await QRCode.toString(begun.uri, { type: 'svg', margin: 2 });
        if (live) setQr(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`);
      })
      .catch((error: unknown) => {
        if (!live) return;
        setRefusal(error);
        // A locked vault may be opened meanwhile: a reload tries again. Anything else: sign in again.
        if (!(error instanceof ApiError && error.code === 'SECRETS_LOCKED')) setEnded(true);
      });
    return () => {
      live = false;
    };
  }, []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setPending(true);
    setRefusal(null);
    try {
      setRecoveryCodes(await confirmEnrolment(code.trim()));
    } catch (error) {
      setRefusal(error);
      // A wrong code with tries left, or a wait: the same set-up takes the next code. Anything else: sign in again.
      if (!(error instanceof ApiError && (error.code === 'SIGN_IN_THROTTLED' || error.code === 'MFA_CODE_WRONG'))) setEnded(true);
    } finally {
      setCode('');
      setPending(false);
    }
  };

  const signInAnotherWay = async () => {
    await cancelEnrolment().catch(() => undefined);
    window.location.reload();
  };

  if (recoveryCodes !== null)
    return (
      <div className="splash">
        <div className="splash-card sign-in forced-enrolment" data-testid="forced-enrolment-done">
          <h1>Two-factor sign-in is set up</h1>
          {/* The session started with the right code; the app opens once the codes are kept. */}
          <RecoveryCodes
            codes={recoveryCodes}
            onDone={() => window.location.reload()}
            doneLabel="I have kept them: open the control center"
          />
        </div>
      </div>
    );

  return (
    <div className="splash">
      <form className="splash-card sign-in forced-enrolment" data-testid="forced-enrolment" onSubmit={(event) => void submit(event)}>
        <h1>Set up two-factor sign-in</h1>
        <p>
          {/* No "your password was right": a provider sign-in comes here too. */}
          {secret ? `Hello ${secret.name}. ` : ''}
          This control center asks everyone who signs in from a browser for a code from an authenticator app too, and you have not set one
          up yet. It takes a minute, and you are signed in right after.
        </p>
        {ended ? null : secret ? (
          <>
            <ol className="forced-enrolment-steps">
              <li>
                Open an authenticator app on your phone (such as FreeOTP, Aegis or Google Authenticator; install one if you have none).
              </li>
              <li>
                Scan this QR code with it (reloading this page makes a new one):
                {qr ? (
                  <img className="mfa-qr" src={qr} alt={`QR code of the two-factor secret for ${secret.name}`} width={200} height={200} />
                ) : null}
                <span>
                  or type this secret into the app (shown only now):{' '}
                  <span className="mono" data-testid="mfa-secret">
                    {secret.secret}
                  </span>
                </span>
              </li>
              <li>Type the 6-digit code the app now shows for this control center:</li>
            </ol>
            <FormField label="Code the app shows" hint="This set-up waits 5 minutes; then sign in again to start it over.">
              <input
                className="input mono"
                name="enrol-code"
                autoComplete="one-time-code"
                inputMode="numeric"
                autoFocus
                required
                maxLength={64}
                value={code}
                onChange={(event) => setCode(event.target.value)}
              />
            </FormField>
          </>
        ) : refusal === null ? (
          <p className="muted">Making your secret…</p>
        ) : null}
        {refusal !== null ? <ErrorNotice title={ended ? 'Not set up' : 'Not confirmed'} error={refusal} /> : null}
        <div className="actions">
          {ended || !secret ? null : (
            <button type="submit" className="button button-primary" disabled={pending || code.trim() === ''}>
              {pending ? 'Checking…' : 'Confirm and sign in'}
            </button>
          )}
          <button type="button" className="button" onClick={() => void signInAnotherWay()}>
            {ended ? 'Back to sign-in' : 'Cancel and go back to sign-in'}
          </button>
        </div>
      </form>
    </div>
  );
}
