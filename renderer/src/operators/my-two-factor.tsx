import { useQueryClient } from '@tanstack/react-query';
import QRCode from 'qrcode';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { apiKey, useApiQuery } from '../api/queries';
import { useApiAction } from '../api/use-api-action';
import { Card } from '../ui/card';
import { FormField } from '../ui/form-field';
import { ErrorNotice, LoadingState } from '../ui/query-state';
import { useAllowed } from './use-session';

/**
 * The signed-in operator's own two-factor sign-in (issue 14, item 4): set it up by scanning
 * a QR code (drawn here from the otpauth URI the backend returns; the secret shown as text
 * too, once), confirm with a first code, and keep the ten recovery codes shown once. Admins
 * also turn on step-up: a fresh code before admin actions.
 */
export function MyTwoFactor() {
  const status = useApiQuery('mfa.status', {});
  const stepUpAllowed = useAllowed('manage-operators');
  const [enrolling, setEnrolling] = useState(false);
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);
  const queryClient = useQueryClient();
  const refresh = () => void queryClient.invalidateQueries({ queryKey: apiKey('mfa.status') });

  return (
    <Card title="My two-factor sign-in" testId="my-two-factor">
      {status.isError ? (
        <ErrorNotice title="Could not read your two-factor sign-in" error={status.error} onRetry={() => void status.refetch()} />
      ) : !status.data ? (
        <LoadingState label="Reading your two-factor sign-in…" />
      ) : recoveryCodes ? (
        <RecoveryCodes
          codes={recoveryCodes}
          onDone={() => {
            setRecoveryCodes(null);
            refresh();
          }}
        />
      ) : enrolling ? (
        <Enrol
          onConfirmed={(codes) => {
            setEnrolling(false);
            setRecoveryCodes(codes);
          }}
          onCancel={() => setEnrolling(false)}
        />
      ) : status.data.enrolled ? (
        <p data-testid="mfa-state">
          Two-factor sign-in is on: signing in asks for the code your authenticator app shows. {status.data.recoveryCodesLeft} of 10
          recovery codes left.
        </p>
      ) : (
        <>
          <p data-testid="mfa-state">
            Two-factor sign-in is off: your password alone signs you in. With it on, signing in also asks for a code from an authenticator
            app on your phone.
          </p>
          <div className="actions">
            <button type="button" className="button button-primary" onClick={() => setEnrolling(true)}>
              Set up two-factor sign-in
            </button>
          </div>
        </>
      )}
      {status.data ? (
        <>
          <StepUpSetting required={status.data.stepUpRequired} enrolled={status.data.enrolled} deniedReason={stepUpAllowed.reason} />
          <WebRequiredSetting required={status.data.webRequired} enrolled={status.data.enrolled} deniedReason={stepUpAllowed.reason} />
        </>
      ) : null}
    </Card>
  );
}

function Enrol({ onConfirmed, onCancel }: { onConfirmed: (codes: string[]) => void; onCancel: () => void }) {
  const begin = useApiAction('mfa.enrolBegin');
  const confirm = useApiAction('mfa.enrolConfirm');
  const [qr, setQr] = useState<string | null>(null);
  const [code, setCode] = useState('');
  const enrolment = begin.state.status === 'success' ? begin.state.result : null;
  const { run } = begin;

  // One secret per form shown: each call makes a new one, replacing the last (StrictMode runs this effect twice in development).
  const began = useRef(false);
  useEffect(() => {
    if (began.current) return;
    began.current = true;
    void run({});
  }, [run]);
  useEffect(() => {
    if (!enrolment) return;
    let current = true;
    void QRCode.toString(enrolment.uri, { type: 'svg', margin: 2 }).then((svg) => {
      if (current) setQr(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`);
    });
    return () => {
      current = false;
    };
  }, [enrolment]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const confirmed = await confirm.run({ code: code.trim() });
    setCode('');
    if (confirmed) onConfirmed(confirmed.recoveryCodes);
  };

  if (begin.state.status === 'error') return <ErrorNotice title="Could not start the set-up" error={begin.state.error} />;
  if (!enrolment) return <LoadingState label="Making a new secret…" />;
  return (
    <form className="mfa-enrol" data-testid="mfa-enrol" onSubmit={(event) => void submit(event)}>
      <p>Scan this code with an authenticator app (such as FreeOTP, Aegis or Google Authenticator), then type the code it shows.</p>
      {qr ? (
        <img className="mfa-qr" src={qr} alt={`QR code of the two-factor secret for ${enrolment.name}`} width={200} height={200} />
      ) : null}
      <p>
        Or type this secret into the app (shown only now):{' '}
        <span className="mono" data-testid="mfa-secret">
          {enrolment.secret}
        </span>
      </p>
      <FormField label="Code the app shows">
        <input
          className="input mono"
          name="enrol-code"
          autoComplete="one-time-code"
          inputMode="numeric"
          required
          maxLength={64}
          value={code}
          onChange={(event) => setCode(event.target.value)}
        />
      </FormField>
      {confirm.state.status === 'error' ? <ErrorNotice title="Not confirmed" error={confirm.state.error} /> : null}
      <div className="actions">
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button button-primary" disabled={confirm.pending || code.trim() === ''}>
          {confirm.pending ? 'Checking…' : 'Confirm'}
        </button>
      </div>
    </form>
  );
}

/** The ten recovery codes, shown once after a confirmed enrolment (here, and at a forced enrolment at sign-in). */
export function RecoveryCodes({
  codes,
  onDone,
  doneLabel = 'I have kept them',
}: {
  codes: string[];
  onDone: () => void;
  doneLabel?: string;
}) {
  return (
    <div data-testid="mfa-recovery-codes">
      <p>
        <strong>Two-factor sign-in is on.</strong> Keep these recovery codes somewhere safe, away from your phone: each signs you in once
        instead of a code if the phone is lost. They are shown only now.
      </p>
      <ul className="mfa-recovery-list mono">
        {codes.map((code) => (
          <li key={code}>{code}</li>
        ))}
      </ul>
      <div className="actions">
        <button type="button" className="button button-primary" onClick={onDone}>
          {doneLabel}
        </button>
      </div>
    </div>
  );
}

function StepUpSetting({ required, enrolled, deniedReason }: { required: boolean; enrolled: boolean; deniedReason: string | null }) {
  const set = useApiAction('mfa.setStepUp');
  const queryClient = useQueryClient();
  const reason = deniedReason ?? (!required && !enrolled ? 'Set up your own two-factor sign-in first.' : null);
  return (
    <div className="mfa-step-up">
      <label title={reason ?? undefined}>
        <input
          type="checkbox"
          name="step-up"
          checked={required}
          disabled={reason !== null || set.pending}
          onChange={(event) =>
            void set.run({ required: event.target.checked }).then(() => queryClient.invalidateQueries({ queryKey: apiKey('mfa.status') }))
          }
        />{' '}
        Ask for a fresh two-factor code before admin actions (install, upgrade, roll back, uninstall, trusting a key, managing operators): a
        setting for every admin of this control center, not only you
      </label>
      {reason ? <span className="muted"> — {reason}</span> : null}
      {set.state.status === 'error' ? <ErrorNotice title="Step-up not changed" error={set.state.error} /> : null}
    </div>
  );
}

/**
 * Two-factor sign-in required of web mode for a team (mfa.setWebRequired): an operator without
 * it sets it up at its next sign-in in a browser, before any session. Changed only by an admin
 * who has two-factor sign-in (either way), with step-up as for other operator management.
 */
function WebRequiredSetting({ required, enrolled, deniedReason }: { required: boolean; enrolled: boolean; deniedReason: string | null }) {
  const set = useApiAction('mfa.setWebRequired');
  const queryClient = useQueryClient();
  const reason = deniedReason ?? (!enrolled ? 'Set up your own two-factor sign-in first.' : null);
  return (
    <div className="mfa-step-up" data-testid="mfa-web-required">
      <label title={reason ?? undefined}>
        <input
          type="checkbox"
          name="web-required"
          checked={required}
          disabled={reason !== null || set.pending}
          onChange={(event) =>
            void set.run({ required: event.target.checked }).then(() => queryClient.invalidateQueries({ queryKey: apiKey('mfa.status') }))
          }
        />{' '}
        Require two-factor sign-in of everyone who signs in from a browser (web mode for a team): whoever has not set it up does so at their
        next sign-in there, before going on (turning it on signs their browsers out). The desktop app, the command line and web mode opened
        with its launch link on this machine are not affected
      </label>
      {reason ? <span className="muted"> — {reason}</span> : null}
      {set.state.status === 'error' ? <ErrorNotice title="Setting not changed" error={set.state.error} /> : null}
    </div>
  );
}
