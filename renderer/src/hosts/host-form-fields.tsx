import type { ChangeEvent } from 'react';
import type { HostSummary } from '../../../electron/contract';
import { ROLE_LABELS, type FieldErrors, type HostFormValues } from './host-form';
import { FormField } from '../ui/form-field';
import { useAppInfo } from '../api/queries';
import { PrivateKeyFields } from './private-key-fields';

const AUTH_CHOICES: Array<{ value: HostFormValues['authMethod']; label: string }> = [
  { value: 'key', label: 'Private key' },
  { value: 'agent', label: 'SSH agent' },
  { value: 'password', label: 'Password' },
];

/** The fields that hold whatever is typed, as typed. */
type FreeTextField = { [K in keyof HostFormValues]: string extends HostFormValues[K] ? K : never }[keyof HostFormValues];

/**
 * The fields of the add and edit host forms. Secret fields are `type=password` and start
 * empty: a stored secret is never sent back, only replaced.
 */
export function HostFormFields({
  values,
  onChange,
  errors,
  jumpCandidates,
  editing,
}: {
  values: HostFormValues;
  onChange: (patch: Partial<HostFormValues>) => void;
  errors: FieldErrors;
  /** SSH hosts this one may connect through. */
  jumpCandidates: HostSummary[];
  /** The stored host when editing; its secrets show as "kept" hints. */
  editing?: HostSummary;
}) {
  const keepsSecret = (method: HostFormValues['authMethod']) => editing !== undefined && editing.authMethod === method && editing.hasSecret;
  // A control's name, value and edits all come from the one field it stands for.
  const bind = (field: FreeTextField) => ({
    name: field,
    value: values[field],
    onChange: (event: ChangeEvent<HTMLInputElement | HTMLSelectElement>) => onChange({ [field]: event.target.value }),
  });
  // Only the desktop app's window sits at the backend's machine; a browser (web mode) names no file there.
  const keyFilesAllowed = useAppInfo().data?.mode === 'desktop';
  // The SSH agent is the backend's too (its SSH_AUTH_SOCK): a browser is not offered it. A host that has it
  // keeps it (shown, so the form says what it is), and the backend's own logins (links, installs) use it.
  const authChoices = AUTH_CHOICES.filter((choice) => choice.value !== 'agent' || keyFilesAllowed || editing?.authMethod === 'agent');
  return (
    <div className="form-grid">
      <FormField label="Name" error={errors.name} hint="How the app and the CLI name this host.">
        <input className="input" {...bind('name')} autoComplete="off" spellCheck={false} data-autofocus />
      </FormField>
      <FormField label="Role" error={errors.role}>
        <select
          className="input"
          name="role"
          value={values.role}
          onChange={(event) => onChange({ role: event.target.value as HostFormValues['role'] })}
        >
          <option value="">Not decided yet</option>
          {(Object.keys(ROLE_LABELS) as Array<keyof typeof ROLE_LABELS>).map((role) => (
            <option key={role} value={role}>
              {ROLE_LABELS[role]}
            </option>
          ))}
        </select>
      </FormField>
      <div className="form-row form-span">
        <FormField label="Address" error={errors.address} hint="Host name, IPv4 or IPv6 address.">
          <input className="input" {...bind('address')} autoComplete="off" spellCheck={false} />
        </FormField>
        <FormField label="Port" error={errors.port}>
          <input className="input input-port" {...bind('port')} inputMode="numeric" autoComplete="off" />
        </FormField>
        <FormField label="User" error={errors.user}>
          <input className="input" {...bind('user')} autoComplete="off" spellCheck={false} />
        </FormField>
      </div>
      <fieldset className="form-span fieldset">
        <legend className="field-label">Log in with</legend>
        <div className="segmented" role="radiogroup" aria-label="Log in with">
          {authChoices.map((choice) => (
            <label key={choice.value} className={values.authMethod === choice.value ? 'segment segment-on' : 'segment'}>
              <input
                type="radio"
                name="authMethod"
                value={choice.value}
                checked={values.authMethod === choice.value}
                onChange={() => onChange({ authMethod: choice.value })}
              />
              {choice.label}
            </label>
          ))}
        </div>
        {errors.authMethod ? <p className="field-error">{errors.authMethod}</p> : null}
        {values.authMethod === 'key' ? (
          <PrivateKeyFields values={values} onChange={onChange} errors={errors} editing={editing} keyFilesAllowed={keyFilesAllowed} />
        ) : null}
        {values.authMethod === 'agent' ? (
          <p className="field-hint">
            {keyFilesAllowed
              ? 'The SSH agent of the user running this app (SSH_AUTH_SOCK) offers its keys.'
              : "The SSH agent of the backend's machine offers its keys (kept for this host; a browser cannot choose it). To log in with a key of your own, choose Private key."}
          </p>
        ) : null}
        {values.authMethod === 'password' ? (
          <FormField
            label="Password"
            error={errors.password}
            hint={keepsSecret('password') ? 'A password is stored; leave empty to keep it.' : 'Sealed on arrival; never shown again.'}
          >
            <input className="input" type="password" {...bind('password')} autoComplete="new-password" />
          </FormField>
        ) : null}
      </fieldset>
      <FormField
        label="Sudo password (optional)"
        error={errors.sudoPassword}
        hint={editing ? 'Leave empty to keep what is stored.' : 'When sudo asks for one; the login password is tried otherwise.'}
      >
        <input
          className="input"
          type="password"
          {...bind('sudoPassword')}
          disabled={values.forgetSudoPassword}
          autoComplete="new-password"
        />
      </FormField>
      <FormField label="Jump host" error={errors.jumpHostId} hint="Connect through another SSH host (a bastion).">
        <select className="input" {...bind('jumpHostId')}>
          <option value="">None: connect directly</option>
          {jumpCandidates.map((host) => (
            <option key={host.id} value={String(host.id)}>
              {host.name} ({host.address})
            </option>
          ))}
        </select>
      </FormField>
      {editing ? (
        <label className="check form-span">
          <input
            type="checkbox"
            checked={values.forgetSudoPassword}
            onChange={(event) => onChange({ forgetSudoPassword: event.target.checked, sudoPassword: '' })}
          />
          Forget the stored sudo password
        </label>
      ) : null}
      <div className="form-span">
        <FormField label="Labels" error={errors.labels} hint="Comma-separated, e.g. gpu, rack=b4, site/lab-2.">
          <input className="input" {...bind('labels')} autoComplete="off" spellCheck={false} />
        </FormField>
      </div>
    </div>
  );
}
