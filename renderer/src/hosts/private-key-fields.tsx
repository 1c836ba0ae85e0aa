import { useId, useState, type ChangeEvent } from 'react';
import { MAX_PRIVATE_KEY_TEXT, type HostSummary } from '../../../electron/contract';
import type { FieldErrors, HostFormValues, KeySource } from './host-form';
import { describeKeyText } from './describe-key-text';
import { FormField } from '../ui/form-field';

/**
 * A key login's private key: its text, pasted or read from a file on the operator's own
 * computer by the browser (sealed in the vault on arrival, never shown again), or, in the
 * desktop app only, a key file on this machine. In web mode the browser is elsewhere: no
 * file on the backend's machine can be named from it, so only the text is offered.
 */
export function PrivateKeyFields({
  values,
  onChange,
  errors,
  editing,
  keyFilesAllowed,
}: {
  values: HostFormValues;
  onChange: (patch: Partial<HostFormValues>) => void;
  errors: FieldErrors;
  editing: HostSummary | undefined;
  /** The desktop app: its window sits at the backend's machine, whose files it may name. */
  keyFilesAllowed: boolean;
}) {
  const keyStored = editing !== undefined && editing.authMethod === 'key' && editing.keyStored;
  const keyUnchanged =
    editing !== undefined &&
    editing.authMethod === 'key' &&
    (values.keySource === 'file' ? values.keyPath.trim() === (editing.keyPath ?? '') : keyStored && values.privateKey === '');
  // Web mode editing a host whose key is a file on the backend (set from the desktop app or the command line): kept, or replaced by a text.
  const fileKeptHere = !keyFilesAllowed && values.keySource === 'file';
  const sources: Array<{ value: KeySource; label: string }> = [
    { value: 'text', label: 'Paste key' },
    { value: 'file', label: 'Key file on this machine' },
  ];
  return (
    <div className="key-fields">
      {keyFilesAllowed ? (
        <div className="segmented" role="radiogroup" aria-label="Private key from">
          {sources.map((source) => (
            <label key={source.value} className={values.keySource === source.value ? 'segment segment-on' : 'segment'}>
              <input
                type="radio"
                name="keySource"
                value={source.value}
                checked={values.keySource === source.value}
                onChange={() => onChange({ keySource: source.value })}
              />
              {source.label}
            </label>
          ))}
        </div>
      ) : null}
      {fileKeptHere ? (
        <div className="field" data-testid="key-file-kept">
          <p className="field-hint">
            This host logs in with the key file <span className="mono">{editing?.keyPath}</span> on the backend&apos;s machine (set from the
            desktop app or the command line); it is kept.
          </p>
          <button type="button" className="button" onClick={() => onChange({ keySource: 'text' })}>
            Paste a key instead
          </button>
        </div>
      ) : values.keySource === 'text' ? (
        <KeyTextField values={values} onChange={onChange} error={errors.privateKey} keyStored={keyStored} />
      ) : (
        <FormField label="Private key file" error={errors.keyPath} hint="A path on the machine running this app, e.g. ~/.ssh/id_ed25519.">
          <input
            className="input mono"
            name="keyPath"
            value={values.keyPath}
            onChange={(event) => onChange({ keyPath: event.target.value })}
            autoComplete="off"
            spellCheck={false}
          />
        </FormField>
      )}
      <FormField
        label="Key passphrase (optional)"
        error={errors.passphrase}
        hint={keyUnchanged && editing?.hasSecret ? 'A passphrase is stored; leave empty to keep it.' : 'Only if the key is encrypted.'}
      >
        <input
          className="input"
          type="password"
          name="passphrase"
          value={values.passphrase}
          onChange={(event) => onChange({ passphrase: event.target.value })}
          autoComplete="new-password"
        />
      </FormField>
    </div>
  );
}

/** The key's text, masked like a password, with what it looks like said below it (never its content). */
function KeyTextField({
  values,
  onChange,
  error,
  keyStored,
}: {
  values: HostFormValues;
  onChange: (patch: Partial<HostFormValues>) => void;
  error: string | undefined;
  keyStored: boolean;
}) {
  const fileId = useId();
  const [fileError, setFileError] = useState<string | null>(null);
  const described = values.privateKey === '' ? null : describeKeyText(values.privateKey);
  const readFile = (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    // The same file chosen again after an edit still fires a change.
    event.target.value = '';
    if (!file) return;
    if (file.size > MAX_PRIVATE_KEY_TEXT) {
      setFileError(
        `${file.name} is ${file.size} bytes: far too big for a private key (at most ${MAX_PRIVATE_KEY_TEXT}). Choose the key file itself, e.g. id_ed25519.`,
      );
      return;
    }
    setFileError(null);
    void file.text().then((text) => onChange({ privateKey: text }));
  };
  const hint =
    described ??
    (keyStored
      ? 'A private key is stored (sealed); leave empty to keep it, or paste another to replace it.'
      : 'The whole private key, from its -----BEGIN line to its -----END line (OpenSSH or PEM), e.g. ~/.ssh/id_ed25519 on your computer. Sealed on arrival; never shown again.');
  return (
    <div className="key-text">
      <FormField label="Private key" error={error ?? fileError ?? undefined} hint={hint}>
        <textarea
          className="input textarea mono key-text-input"
          name="privateKey"
          value={values.privateKey}
          onChange={(event) => onChange({ privateKey: event.target.value })}
          placeholder={keyStored ? 'Stored: paste a new key to replace it' : '-----BEGIN OPENSSH PRIVATE KEY-----'}
          rows={4}
          autoComplete="off"
          autoCorrect="off"
          autoCapitalize="off"
          spellCheck={false}
          data-testid="private-key-text"
        />
      </FormField>
      <div className="key-text-actions">
        <label className="button" htmlFor={fileId}>
          Read from a file…
        </label>
        <input id={fileId} type="file" className="visually-hidden" onChange={readFile} data-testid="private-key-file" />
        {values.privateKey !== '' ? (
          <button type="button" className="button" onClick={() => onChange({ privateKey: '' })}>
            Clear
          </button>
        ) : null}
      </div>
    </div>
  );
}
