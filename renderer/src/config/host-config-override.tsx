import { useEffect, useId, useRef } from 'react';
import type { ConfigText, MethodParams } from '../../../electron/contract';
import { ConfigCheckStatus } from './config-check-status';
import { ConfigEditor, type ConfigEditorHandle } from './config-editor';
import { ConfigMergedValues } from './config-merged-values';
import { ConfigProblemView } from './config-problem';
import { ErrorNotice } from '../ui/query-state';
import { errorLineIn, useConfigCheck, type ConfigCheckState } from './use-config-check';

const PLACEHOLDER = `# Only what this machine needs different from the install’s values, e.g.
runtime:
  logs:
    keep_files: 8`;

/**
 * The editor of one host's override, checked over the install's values as it is typed.
 * Mounted only while the host has an override, so a host without one asks nothing.
 */
function OverrideEditor({
  hostId,
  hostName,
  override,
  params,
  onChange,
  onState,
}: {
  hostId: number;
  hostName: string;
  override: ConfigText;
  params: MethodParams<'config.check'>;
  onChange: (text: string) => void;
  onState: (hostId: number, state: ConfigCheckState | null) => void;
}) {
  const editorId = useId();
  const statusId = useId();
  const editor = useRef<ConfigEditorHandle>(null);
  const { state, result, problem, checkedParams, error, retry } = useConfigCheck(params);
  const reveal = (line: number, column: number) => editor.current?.reveal(line, column);

  // The step decides whether the wizard may go on; it hears each host's verdict from here.
  useEffect(() => {
    onState(hostId, state);
  }, [hostId, state, onState]);
  useEffect(
    () => () => {
      onState(hostId, null);
    },
    [hostId, onState],
  );

  return (
    <div className="stack" data-state={state}>
      <div className="field">
        <label className="field-label" htmlFor={editorId}>
          YAML over the install’s values, for {hostName} only <span className="mono muted">({override.name})</span>
        </label>
        <ConfigEditor
          id={editorId}
          ref={editor}
          value={override.text}
          onChange={onChange}
          errorLine={errorLineIn(problem, override.name)}
          placeholder={PLACEHOLDER}
          describedBy={statusId}
          testId="host-config-text"
        />
      </div>
      <div id={statusId}>
        <ConfigCheckStatus state={state} result={result} testId="host-config-status" />
      </div>
      {error ? <ErrorNotice title={`The override of ${hostName} could not be checked`} error={error} onRetry={retry} /> : null}
      {problem ? <ConfigProblemView problem={problem} editedName={override.name} onReveal={reveal} /> : null}
      {result?.valid ? (
        <details className="report-host" data-testid="host-config-merged">
          <summary>
            Merged values on {hostName}: {result.layers.map((layer) => layer.layer).join(' → ')}
          </summary>
          <ConfigMergedValues config={result.config} params={checkedParams} editedName={override.name} onReveal={reveal} />
        </details>
      ) : null}
    </div>
  );
}

/**
 * One chosen host's override layer: none yet (with a way to add one), or its text with
 * the check, the error's place and the merged values on that host.
 */
export function HostConfigOverride({
  hostId,
  hostName,
  override,
  params,
  onAdd,
  onChange,
  onRemove,
  onState,
}: {
  hostId: number;
  hostName: string;
  override: ConfigText | null;
  /** The layers to check: the install's values with this override on top; null without an override. */
  params: MethodParams<'config.check'> | null;
  onAdd: () => void;
  onChange: (text: string) => void;
  onRemove: () => void;
  onState: (hostId: number, state: ConfigCheckState | null) => void;
}) {
  return (
    <section className="wizard-host" data-testid="host-config" data-host-name={hostName} data-has-override={String(override !== null)}>
      <header className="wizard-host-head">
        <h3 className="host-name">{hostName}</h3>
        <span className="muted">{override ? `override ${override.name}` : 'the install’s values, unchanged'}</span>
        <span className="wizard-host-count">
          {override ? (
            <button type="button" className="button" onClick={onRemove} data-testid="host-config-remove">
              Remove the override
            </button>
          ) : (
            <button type="button" className="button" onClick={onAdd} data-testid="host-config-add">
              Add an override
            </button>
          )}
        </span>
      </header>
      {override && params ? (
        <OverrideEditor hostId={hostId} hostName={hostName} override={override} params={params} onChange={onChange} onState={onState} />
      ) : null}
    </section>
  );
}
