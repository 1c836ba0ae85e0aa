import { useId, useState } from 'react';
import type { ConfigChange, ConfigEnvironment, MethodParams } from '../../../electron/contract';
import { useApiQuery } from '../api/queries';
import { distinctName } from './distinct-name';
import { formatConfigValue } from './format-config-value';
import { readTextFile } from '../ui/read-text-file';
import { DottedKey } from './dotted-key';
import { ErrorNotice } from '../ui/query-state';
import { useDebouncedValue } from '../ui/use-debounced-value';

const DEBOUNCE_MS = 300;

function ChangeRow({ change }: { change: ConfigChange }) {
  return (
    <tr data-testid="config-change" data-path={change.path} data-kind={change.kind}>
      <td className="mono">
        <DottedKey path={change.path} />
      </td>
      <td>
        <span className={`config-change-kind config-change-${change.kind}`}>{change.kind}</span>
      </td>
      <td className="mono" data-testid="config-change-before">
        {change.kind === 'added' ? <span className="muted">—</span> : formatConfigValue(change.before)}
      </td>
      <td className="mono" data-testid="config-change-after">
        {change.kind === 'removed' ? <span className="muted">—</span> : formatConfigValue(change.after)}
      </td>
    </tr>
  );
}

/**
 * What changes from another version of the install's values (pasted, or loaded from a
 * file) to the text being edited, each loaded over the same defaults and environment.
 */
export function ConfigDiff({ current, environment }: { current: { name: string; text: string }; environment: ConfigEnvironment | null }) {
  const textId = useId();
  const [other, setOther] = useState({ name: 'other.yaml', text: '' });
  const [readError, setReadError] = useState<unknown>(null);
  const params: MethodParams<'config.diff'> = {
    before: { name: distinctName(other.name, current.name), text: other.text },
    after: current,
    ...(environment === null ? {} : { environment }),
  };
  const settled = useDebouncedValue(params, DEBOUNCE_MS);
  const wanted = other.text.trim() !== '';
  const diff = useApiQuery('config.diff', settled, { enabled: settled.before.text.trim() !== '', keepPrevious: true, gcTime: 30_000 });
  const busy = JSON.stringify(settled) !== JSON.stringify(params) || diff.isFetching;

  const onFile = async (file: File | undefined) => {
    setReadError(null);
    if (!file) return;
    try {
      setOther({ name: file.name, text: await readTextFile(file) });
    } catch (error) {
      setReadError(error);
    }
  };

  return (
    <div className="stack" data-testid="config-diff">
      <div className="field">
        <label className="field-label" htmlFor={textId}>
          The other version{other.name !== 'other.yaml' ? ` (loaded from ${other.name})` : ''}
        </label>
        <textarea
          id={textId}
          className="input textarea mono"
          rows={8}
          value={other.text}
          onChange={(event) => setOther({ ...other, text: event.target.value })}
          placeholder="Paste the version to compare with, e.g. what is installed now"
          spellCheck={false}
          data-testid="config-diff-text"
        />
        <input
          className="file-input"
          type="file"
          accept=".yaml,.yml,application/yaml,text/yaml,text/plain"
          aria-label="Load the other version from a file"
          onChange={(event) => void onFile(event.target.files?.[0])}
          data-testid="config-diff-file"
        />
      </div>
      {readError ? <ErrorNotice title="Could not read the file" error={readError} /> : null}
      {!wanted ? null : diff.isError && !busy ? (
        <ErrorNotice title="Could not compare the two versions" error={diff.error} />
      ) : diff.data ? (
        <div className="stack" data-testid="config-diff-result" data-state={busy ? 'checking' : 'done'} aria-busy={busy}>
          <p className="field-hint">
            From <span className="mono">{diff.data.before.name}</span> ({diff.data.before.environment}) to{' '}
            <span className="mono">{diff.data.after.name}</span> ({diff.data.after.environment}), after merging each over the same defaults
            and environment.
          </p>
          {diff.data.changes.length === 0 ? (
            <p className="state-title" data-testid="config-diff-none">
              No differences: both versions give the same configuration.
            </p>
          ) : (
            <div className="card table-card">
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">Key</th>
                    <th scope="col">Change</th>
                    <th scope="col">Other version</th>
                    <th scope="col">This text</th>
                  </tr>
                </thead>
                <tbody>
                  {diff.data.changes.map((change) => (
                    <ChangeRow key={change.path} change={change} />
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      ) : (
        <p className="field-hint" role="status">
          Comparing…
        </p>
      )}
    </div>
  );
}
