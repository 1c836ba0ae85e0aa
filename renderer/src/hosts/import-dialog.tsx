import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { ImportError } from '../../../electron/contract';
import { invalidateInventory, useAppInfo } from '../api/queries';
import { useApiAction } from '../api/use-api-action';
import { readTextFile } from '../ui/read-text-file';
import { hrefFor } from '../router/route';
import { DataTable, type Column } from '../ui/data-table';
import { ModalDialog } from '../ui/modal-dialog';
import { ErrorNotice } from '../ui/query-state';

const FORM_ID = 'import-hosts-form';
/** The contract's limit on `hosts.import` text. */
const MAX_BYTES = 512 * 1024;

/** A host list's example; a key file (keyPath) only where the page sits at the backend's machine (the desktop app). */
function example(keyFiles: boolean): string {
  return `hosts:
  - name: gpu-1
    address: 10.0.0.11
    user: ops${keyFiles ? '\n    keyPath: ~/.ssh/id_ed25519' : ''}
    role: agent
    labels: [gpu, rack=b4]
  - address: 10.0.0.12
    jumpHost: bastion`;
}

function where(error: ImportError): string {
  if (error.line === null) return '—';
  return error.column === null ? `${error.line}` : `${error.line}:${error.column}`;
}

const IMPORT_ERROR_COLUMNS: Array<Column<ImportError>> = [
  { header: 'Host', numeric: true, cell: (error) => error.row ?? <span className="muted">file</span> },
  { header: 'Line:col', className: 'mono', cell: (error) => where(error) },
  {
    header: 'Problem',
    cell: (error) => (
      <>
        <p className="import-message">
          {error.field ? <span className="mono tag-field">{error.field}</span> : null}
          {error.message}
        </p>
        <p className="notice-remedy">{error.remedy}</p>
      </>
    ),
  },
];

function ImportErrors({ errors }: { errors: ImportError[] }) {
  return (
    <div className="card table-card">
      <DataTable
        columns={IMPORT_ERROR_COLUMNS}
        rows={errors}
        rowKey={(error, index) => `${error.row ?? 'file'}-${error.line ?? 0}-${error.column ?? 0}-${index}`}
        rowProps={(error) => ({
          'data-testid': 'import-error',
          'data-row': error.row ?? '',
          'data-line': error.line ?? '',
          'data-column': error.column ?? '',
        })}
      />
    </div>
  );
}

/** Bulk import of a YAML host list: every good row is added, every bad one named with its place in the file. */
export function ImportDialog({ onClose }: { onClose: () => void }) {
  const queryClient = useQueryClient();
  const [text, setText] = useState('');
  const [fileName, setFileName] = useState('pasted.yaml');
  const [readError, setReadError] = useState<unknown>(null);
  const importList = useApiAction('hosts.import');
  // Only the desktop app's window sits at the backend's machine: a browser's list may not name key files there.
  const keyFiles = useAppInfo().data?.mode === 'desktop';

  const onFile = async (file: File | undefined) => {
    setReadError(null);
    if (!file) return;
    try {
      if (file.size > MAX_BYTES) throw new Error(`${file.name} is ${Math.round(file.size / 1024)} KiB; a host list may be at most 512 KiB`);
      setText(await readTextFile(file));
      setFileName(file.name);
      importList.reset();
    } catch (error) {
      setReadError(error);
    }
  };

  const submit = async () => {
    const result = await importList.run({ text, fileName });
    if (result && result.added.length > 0) await invalidateInventory(queryClient);
  };

  const result = importList.state.status === 'success' ? importList.state.result : null;
  const tooLarge = new TextEncoder().encode(text).length > MAX_BYTES;
  return (
    <ModalDialog
      title="Import hosts"
      description={
        keyFiles
          ? 'A YAML host list: a top-level hosts: list, or k0sctl’s spec.hosts. Passwords cannot be imported; set them on each host afterwards.'
          : 'A YAML host list: a top-level hosts: list, or k0sctl’s spec.hosts. Passwords and keys cannot be imported (a keyPath or auth: agent names the key file or SSH agent of the backend’s machine, which a browser may not): each host comes in waiting for its key; paste it in the host’s settings afterwards.'
      }
      onClose={onClose}
      testId="import-dialog"
      wide
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            {result ? 'Close' : 'Cancel'}
          </button>
          <button
            type="submit"
            form={FORM_ID}
            className="button button-primary"
            disabled={importList.pending || text.trim() === '' || tooLarge}
          >
            {importList.pending ? 'Importing…' : 'Import'}
          </button>
        </>
      }
    >
      <form
        id={FORM_ID}
        className="import-form"
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <div className="field">
          <label className="field-label" htmlFor="import-file">
            From a file
          </label>
          <input
            id="import-file"
            className="file-input"
            type="file"
            accept=".yaml,.yml,application/yaml,text/yaml,text/plain"
            onChange={(event) => void onFile(event.target.files?.[0])}
            data-testid="import-file"
          />
        </div>
        <div className="field">
          <label className="field-label" htmlFor="import-text">
            Or paste it{fileName !== 'pasted.yaml' ? ` (loaded from ${fileName})` : ''}
          </label>
          <textarea
            id="import-text"
            className="input textarea mono"
            value={text}
            onChange={(event) => {
              setText(event.target.value);
              if (importList.state.status !== 'idle') importList.reset();
            }}
            placeholder={example(keyFiles)}
            rows={10}
            spellCheck={false}
            data-autofocus
            data-testid="import-text"
          />
          {tooLarge ? <p className="field-error">The list is larger than 512 KiB; split it into several files.</p> : null}
        </div>
        {readError ? <ErrorNotice title="Could not read the file" error={readError} /> : null}
        {importList.state.status === 'error' ? <ErrorNotice title="The import failed" error={importList.state.error} /> : null}
      </form>
      {result ? (
        <div className="import-result" data-testid="import-result">
          <p className="import-summary" role="status">
            {result.added.length === 0 ? 'No host was added' : `Added ${result.added.length} host${result.added.length === 1 ? '' : 's'}`}
            {result.errors.length > 0 ? `; ${result.errors.length} problem${result.errors.length === 1 ? '' : 's'} below.` : '.'}
          </p>
          {result.added.length > 0 ? (
            <>
              <ul className="import-added" data-testid="import-added">
                {result.added.map((host) => (
                  <li key={host.id} data-host-name={host.name}>
                    <a href={hrefFor({ name: 'host', hostId: host.id })} onClick={onClose}>
                      {host.name}
                    </a>{' '}
                    <span className="mono muted">
                      {host.user}@{host.address}:{host.port}
                    </span>
                  </li>
                ))}
              </ul>
              <p className="field-hint">Their host keys are not trusted yet: open each host and use “Check host key”.</p>
            </>
          ) : null}
          {result.errors.length > 0 ? <ImportErrors errors={result.errors} /> : null}
        </div>
      ) : null}
    </ModalDialog>
  );
}
