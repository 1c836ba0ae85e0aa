import { useId, useRef, useState } from 'react';
import { checkParams, type ConfigDraft } from './config-draft';
import { readTextFile } from '../ui/read-text-file';
import { Card } from '../ui/card';
import { ConfigCheckStatus } from './config-check-status';
import { ConfigDiff } from './config-diff';
import { ConfigEditor, type ConfigEditorHandle } from './config-editor';
import { ConfigMergedValues } from './config-merged-values';
import { ConfigProblemView } from './config-problem';
import { EnvironmentSelect } from './environment-select';
import { ErrorNotice } from '../ui/query-state';
import { errorLineIn, useConfigCheck } from './use-config-check';

const PLACEHOLDER = `# Only what differs from config/defaults.yaml, e.g.
system_integration:
  deployment_mode: local
runtime:
  grpc_port: 7600`;

/**
 * The install's configuration: an environment profile and the install's own values,
 * checked by the backend as they are typed (with the line of any error marked), the
 * merged values with the layer that set each, and a diff against another version.
 * The draft belongs to the caller, so a wizard step can keep it with the rest of its state.
 */
export function InstallConfiguration({ draft, onChange }: { draft: ConfigDraft; onChange: (next: ConfigDraft) => void }) {
  const editorId = useId();
  const statusId = useId();
  const editor = useRef<ConfigEditorHandle>(null);
  const [readError, setReadError] = useState<unknown>(null);
  const { state, result, problem, checkedParams, error: checkError, retry } = useConfigCheck(checkParams(draft));
  const errorLine = errorLineIn(problem, draft.name);
  const reveal = (line: number, column: number) => editor.current?.reveal(line, column);

  const onFile = async (file: File | undefined) => {
    setReadError(null);
    if (!file) return;
    try {
      onChange({ ...draft, name: file.name, text: await readTextFile(file) });
    } catch (error) {
      setReadError(error);
    }
  };

  return (
    <div className="stack" data-testid="install-configuration">
      <Card
        title="The install’s values"
        testId="config-values-card"
        actions={
          <>
            <label className="field-label" htmlFor={`${editorId}-environment`}>
              Environment
            </label>
            <EnvironmentSelect
              id={`${editorId}-environment`}
              value={draft.environment}
              onChange={(environment) => onChange({ ...draft, environment })}
            />
          </>
        }
      >
        <div className="stack">
          <div className="field">
            <label className="field-label" htmlFor={editorId}>
              YAML, over config/defaults.yaml and the environment profile <span className="mono muted">({draft.name})</span>
            </label>
            <ConfigEditor
              id={editorId}
              ref={editor}
              value={draft.text}
              onChange={(text) => onChange({ ...draft, text })}
              errorLine={errorLine}
              placeholder={PLACEHOLDER}
              describedBy={statusId}
              testId="config-text"
            />
            <input
              className="file-input"
              type="file"
              accept=".yaml,.yml,application/yaml,text/yaml,text/plain"
              aria-label="Load the install’s values from a file"
              onChange={(event) => void onFile(event.target.files?.[0])}
              data-testid="config-file"
            />
          </div>
          <div id={statusId}>
            <ConfigCheckStatus state={state} result={result} />
          </div>
          {readError ? <ErrorNotice title="Could not read the file" error={readError} /> : null}
          {checkError ? <ErrorNotice title="The configuration could not be checked" error={checkError} onRetry={retry} /> : null}
          {problem ? <ConfigProblemView problem={problem} editedName={draft.name} onReveal={reveal} /> : null}
        </div>
      </Card>

      {result?.valid ? (
        <Card title="Merged values" aside={result.layers.map((layer) => layer.layer).join(' → ')} testId="config-merged-card">
          <ConfigMergedValues config={result.config} params={checkedParams} editedName={draft.name} onReveal={reveal} />
        </Card>
      ) : null}

      <Card title="Compare with another version" testId="config-diff-card">
        <ConfigDiff current={{ name: draft.name, text: draft.text }} environment={draft.environment} />
      </Card>
    </div>
  );
}
