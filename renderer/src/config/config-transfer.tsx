import { useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import type { ConfigImportResult, ConfigReview, ConfigReviewItem } from '../../../electron/contract';
import { inBrowser } from '../api/browser-files';
import { useUpload } from '../api/use-upload';
import { BackendPathField } from '../ui/backend-path-field';
import { BrowserFileField } from '../ui/browser-file-field';
import { UploadProgress } from '../ui/upload-progress';
import { apiKey, useApiQuery } from '../api/queries';
import { useApiAction } from '../api/use-api-action';
import { useDownloadHandOver } from '../api/use-download-hand-over';
import { DeniedNote } from '../operators/denied-note';
import { useAllowed } from '../operators/use-session';
import { DataTable } from '../ui/data-table';
import { FormField } from '../ui/form-field';
import { ErrorNotice } from '../ui/query-state';

/**
 * Moving a site's configuration (issue 15, items 1-3): export hosts, host keys, installs and
 * trusted bundle keys as a signed bundle or as YAML for version control, and import one
 * after a review item by item. In the desktop app files are paths on the control center's
 * machine (the person at the window sits at it); in a browser (web mode) no such path may be
 * named (PAGE_PATH_METHODS): the export is downloaded to the browser's computer and the file
 * to import is chosen there and uploaded, then reviewed and imported by its upload's id.
 */
export function ConfigTransfer() {
  return (
    <div className="stack" data-testid="config-transfer">
      <h2>Move configuration between control centers</h2>
      <ExportCard />
      <ImportCard />
      <TrustedExportersCard />
    </div>
  );
}

function ExportCard() {
  const allowed = useAllowed('export');
  const keys = useApiQuery('configBundles.keys', {});
  const installs = useApiQuery('installs.list', {});
  const browser = inBrowser();
  const exportedToPath = useApiAction('configBundles.export');
  const exportDownload = useApiAction('configBundles.exportDownload');
  const { handOver, reset, take } = useDownloadHandOver();
  const scopeId = useId();
  const [install, setInstall] = useState('');
  const [format, setFormat] = useState<'bundle' | 'yaml'>('bundle');
  const [withSecrets, setWithSecrets] = useState(false);
  const [passphrase, setPassphrase] = useState('');
  const [again, setAgain] = useState('');
  const [path, setPath] = useState('');
  const secrets = format === 'bundle' && withSecrets;
  const mismatch = secrets && again !== '' && again !== passphrase;
  const ready = (browser || path.trim() !== '') && (!secrets || (passphrase.length >= 12 && again === passphrase));
  const exported = browser ? exportDownload : exportedToPath;
  const pending = exported.pending || handOver.status === 'pending';
  const result = exported.state.status === 'success' && (!browser || handOver.status === 'done') ? exported.state.result : null;
  return (
    <div className="card stack" data-testid="config-export">
      <h3>Export</h3>
      <p className="muted">
        {keys.data?.own
          ? `This control center signs exports as ${keys.data.own.fingerprint}. The receiving side compares this fingerprint before it trusts the file.`
          : 'This control center makes its signing key at its first bundle export; its fingerprint is shown here then.'}
      </p>
      <form
        className="stack"
        onSubmit={(event) => {
          event.preventDefault();
          if (!ready) return;
          const choice = { format, ...(install ? { install } : {}), ...(secrets ? { secretsPassphrase: passphrase } : {}) };
          if (!browser) {
            void exportedToPath.run({ path: path.trim(), ...choice });
            return;
          }
          reset();
          void exportDownload.run(choice).then(take);
        }}
      >
        <div className="field">
          <label className="field-label" htmlFor={scopeId}>
            What to export
          </label>
          <select
            id={scopeId}
            className="input"
            value={install}
            onChange={(e) => setInstall(e.target.value)}
            data-testid="config-export-scope"
          >
            <option value="">The whole inventory (every host, install, trusted bundle key, alert rule and policy file)</option>
            {(installs.data ?? []).map((row) => (
              <option key={row.name} value={row.name}>
                Install {row.name}, its hosts and the key that signed its bundle
              </option>
            ))}
          </select>
        </div>
        <fieldset className="field">
          <legend className="field-label">Format</legend>
          <label>
            <input type="radio" name="config-export-format" checked={format === 'bundle'} onChange={() => setFormat('bundle')} /> Signed
            configuration bundle (.sutazai-config), to carry to another control center
          </label>
          <label>
            <input
              type="radio"
              name="config-export-format"
              checked={format === 'yaml'}
              onChange={() => setFormat('yaml')}
              data-testid="config-export-yaml"
            />{' '}
            Plain YAML for version control (same content every time, never any secret)
          </label>
        </fieldset>
        {format === 'bundle' ? (
          <label>
            <input
              type="checkbox"
              checked={withSecrets}
              onChange={(e) => setWithSecrets(e.target.checked)}
              data-testid="config-export-secrets"
            />{' '}
            Include the secrets (SSH passwords, key passphrases, sudo passwords, install CA keys), sealed to a passphrase you choose now
          </label>
        ) : null}
        {secrets ? (
          <>
            <FormField
              label="Export passphrase"
              hint="12 characters or more. Whoever imports the file types it; it is not stored anywhere."
            >
              <input
                className="input"
                type="password"
                autoComplete="new-password"
                value={passphrase}
                onChange={(e) => setPassphrase(e.target.value)}
              />
            </FormField>
            <FormField label="The same passphrase again" error={mismatch ? 'The two passphrases differ.' : undefined}>
              <input
                className="input"
                type="password"
                autoComplete="new-password"
                value={again}
                onChange={(e) => setAgain(e.target.value)}
              />
            </FormField>
          </>
        ) : null}
        {browser ? (
          <p className="field-hint">
            The file is made on the control center and saved by your browser to this computer (its downloads folder).
          </p>
        ) : (
          <BackendPathField
            label="Save to"
            value={path}
            onChange={setPath}
            placeholder="/media/usb/site.sutazai-config"
            testId="config-export-path"
            hint="A new file on the control center’s machine (an existing file is never overwritten)."
          />
        )}
        <div className="actions">
          <button
            type="submit"
            className="button button-primary"
            disabled={!ready || pending || !allowed.allowed}
            title={allowed.reason ?? undefined}
            data-testid="config-export-button"
          >
            {pending ? 'Exporting…' : browser ? 'Export and download' : 'Export'}
          </button>
        </div>
      </form>
      <DeniedNote allowed={allowed} testId="config-export-denied" />
      {exported.state.status === 'error' ? <ErrorNotice title="Nothing was exported" error={exported.state.error} /> : null}
      {handOver.status === 'error' ? <ErrorNotice title="The export was not downloaded" error={handOver.error} /> : null}
      {result ? (
        <p role="status" data-testid="config-export-result">
          {'path' in result ? 'Wrote' : 'Downloaded'} <span className="mono">{'path' in result ? result.path : result.fileName}</span>:{' '}
          {result.hosts} hosts, {result.installs} installs, {result.bundleKeys} bundle signing keys, {result.siteFiles} alert rule and
          policy files
          {result.format === 'bundle' ? `, ${result.secrets} secrets sealed` : ''}. SHA-256 <span className="mono">{result.sha256}</span>
          {result.signedBy ? (
            <>
              , signed by <span className="mono">{result.signedBy}</span>
            </>
          ) : null}
          .
        </p>
      ) : null}
    </div>
  );
}

function ImportCard() {
  const allowed = useAllowed('import-bundle');
  const browser = inBrowser();
  const reviewPath = useApiAction('configBundles.review');
  const reviewUpload = useApiAction('configBundles.reviewUpload');
  const review = browser ? reviewUpload : reviewPath;
  const [path, setPath] = useState('');
  const [chosen, setChosen] = useState<File | null>(null);
  // Web mode: the file reviewed, held by the backend under its upload's id for the import.
  const upload = useUpload('config');
  const held = upload.state.status === 'held' ? upload.state : null;
  const [passphrase, setPassphrase] = useState('');
  // A file chosen after the review is not the one reviewed: its review is hidden (and cannot be imported) until it is reviewed.
  // While a file is being sent nothing is held: no review is shown to import from.
  const stale = browser && (held === null || held.file !== chosen);
  const reviewed = review.state.status === 'success' && !stale ? review.state.result : null;
  const [lastImport, setLastImport] = useState<ConfigImportResult | null>(null);
  const queryClient = useQueryClient();
  const secretsChoice = () => (passphrase ? { secretsPassphrase: passphrase } : {});
  /** Web mode: sends the file for this session, then reviews it by its upload's id (held for the import). */
  const reviewFile = async (file: File) => {
    const receipt = await upload.send(file);
    if (receipt) await reviewUpload.run({ uploadId: receipt.uploadId, ...secretsChoice() });
  };
  const busy = review.pending || upload.state.status === 'sending';
  return (
    <div className="card stack" data-testid="config-import">
      <h3>Import</h3>
      <p className="muted">
        A configuration bundle or a YAML export is checked first (signature, format), then compared with what this control center holds,
        item by item. Nothing changes until you import the items you chose, all together or not at all.
      </p>
      <form
        className="stack"
        onSubmit={(event) => {
          event.preventDefault();
          setLastImport(null);
          if (browser) {
            if (chosen) void reviewFile(chosen);
          } else if (path.trim()) void reviewPath.run({ path: path.trim(), ...secretsChoice() });
        }}
      >
        {browser ? (
          <BrowserFileField
            label="File to import"
            accept=".sutazai-config,.yaml,.yml"
            onChange={setChosen}
            testId="config-import-file"
            hint="A .sutazai-config bundle or an exported .yaml file on this computer: it is sent to the control center for this session and removed there once imported."
          />
        ) : (
          <BackendPathField
            label="File to import"
            value={path}
            onChange={setPath}
            placeholder="/media/usb/site.sutazai-config"
            testId="config-import-path"
            hint="A path on the control center’s machine: a .sutazai-config bundle or an exported .yaml file."
          />
        )}
        <FormField label="Export passphrase (only if the file carries secrets)" hint="Leave empty to import without the secrets.">
          <input
            className="input"
            type="password"
            autoComplete="off"
            value={passphrase}
            onChange={(e) => setPassphrase(e.target.value)}
            data-testid="config-import-passphrase"
          />
        </FormField>
        <div className="actions">
          <button
            type="submit"
            className="button"
            disabled={(browser ? chosen === null : !path.trim()) || busy}
            data-testid="config-review-button"
          >
            {busy ? 'Checking…' : 'Review'}
          </button>
        </div>
      </form>
      <UploadProgress state={upload.state} failedTitle="The file could not be sent" />
      {review.state.status === 'error' ? <ErrorNotice title="The file cannot be imported" error={review.state.error} /> : null}
      {lastImport ? (
        <div role="status" data-testid="config-import-result">
          <p>
            Imported {lastImport.applied.length}: {lastImport.applied.join(', ') || 'nothing (already as the file says)'}. The review below
            is of the store as it is now.
          </p>
          {lastImport.operatorsWithoutPassword.length ? (
            <p className="notice notice-error" data-testid="config-import-no-password">
              {lastImport.operatorsWithoutPassword.join(', ')} {lastImport.operatorsWithoutPassword.length === 1 ? 'has' : 'have'} no
              password here and cannot sign in until an admin sets one on the Operators page (Reset password).
            </p>
          ) : null}
        </div>
      ) : null}
      {reviewed ? (
        <ReviewTable
          key={reviewed.items.map((i) => `${i.id}=${i.status}`).join(',')}
          review={reviewed}
          source={browser && held ? { uploadId: held.receipt.uploadId } : { path: reviewed.path }}
          passphrase={passphrase}
          allowed={allowed}
          onImported={(result) => {
            setLastImport(result);
            // An import may have trusted the exporter: the list of trusted exporters shows it now.
            void queryClient.invalidateQueries({ queryKey: apiKey('configBundles.keys') });
            // An imported upload is removed: reviewed again, the same file is sent again.
            if (browser && held) void reviewFile(held.file);
            else void reviewPath.run({ path: reviewed.path, ...secretsChoice() });
          }}
        />
      ) : null}
    </div>
  );
}

const STATUS_CLASS: Record<ConfigReviewItem['status'], string> = {
  new: 'status status-ok',
  changed: 'status status-warn',
  unchanged: 'status status-pending',
  conflict: 'status status-fail',
  blocked: 'status status-pending',
};

function ReviewTable({
  review,
  source,
  passphrase,
  allowed,
  onImported,
}: {
  review: ConfigReview;
  /** What the review read: a path on the control center's machine, or an upload held for this session (web mode). */
  source: { path: string } | { uploadId: string };
  passphrase: string;
  allowed: ReturnType<typeof useAllowed>;
  onImported(result: ConfigImportResult): void;
}) {
  const importPath = useApiAction('configBundles.import');
  const importUpload = useApiAction('configBundles.importUpload');
  const imported = 'uploadId' in source ? importUpload : importPath;
  // New and changed items start chosen; a conflict only by the operator's own tick, never by default.
  const [chosen, setChosen] = useState<Set<string>>(
    () => new Set(review.items.filter((i) => i.status === 'new' || i.status === 'changed').map((i) => i.id)),
  );
  const [confirmed, setConfirmed] = useState(false);
  const exporter = review.exporter;
  const needsTrust = exporter !== null && !exporter.trusted;
  const toggle = (id: string, on: boolean) =>
    setChosen((current) => {
      const next = new Set(current);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  const withoutSecrets = review.hasSecrets && passphrase === '';
  return (
    <div className="stack" data-testid="config-review">
      <p data-testid="config-review-signer">
        {exporter === null
          ? 'A YAML export: unsigned, so check where it came from (your version control).'
          : exporter.own
            ? `Signed by this control center (${exporter.fingerprint}).`
            : exporter.trusted
              ? `Signed by a trusted exporter: ${exporter.fingerprint} (“${exporter.label}”).`
              : `Signed by a control center not trusted yet: ${exporter.fingerprint} (“${exporter.label}”).`}
        {review.hasSecrets
          ? withoutSecrets
            ? ' It carries sealed secrets; without the passphrase they are left out.'
            : ' Its secrets are opened and compared below.'
          : ''}
      </p>
      <p className="muted mono" data-testid="config-review-sha256">
        SHA-256 {review.sha256}
      </p>
      {review.hasSecrets && !review.secretsCompared ? (
        <div className="notice notice-error notice-body" data-testid="config-review-sealed">
          <p className="notice-title">
            These sealed secrets were not compared with the ones here (type the export passphrase above and review again to compare them):
          </p>
          {review.sealedNotCompared.length ? (
            <ul className="plain-list">
              {review.sealedNotCompared.map((s) => (
                <li key={`${s.id} ${s.secret}`}>
                  <span className="mono">{s.id}</span>: {s.secret}
                </li>
              ))}
            </ul>
          ) : (
            <p>The file does not say which items they belong to (it was exported by an older version).</p>
          )}
        </div>
      ) : null}
      {needsTrust ? (
        <label className="notice notice-error" data-testid="config-trust-exporter">
          <input type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.target.checked)} /> I compared {exporter.fingerprint}{' '}
          with the fingerprint the exporting control center shows, and they match: trust it for configuration imports.
        </label>
      ) : null}
      <DataTable
        className="config-review-table"
        rows={review.items}
        rowKey={(item) => item.id}
        rowProps={(item) => ({ 'data-item': item.id, 'data-status': item.status })}
        columns={[
          {
            label: 'Import',
            cell: (item) => (
              <input
                type="checkbox"
                aria-label={`Import ${item.id}`}
                disabled={
                  item.status === 'unchanged' || item.status === 'blocked' || (item.status === 'conflict' && item.kind === 'install')
                }
                checked={chosen.has(item.id)}
                onChange={(e) => toggle(item.id, e.target.checked)}
              />
            ),
          },
          { header: 'Item', cell: (item) => <span className="mono">{item.id}</span> },
          {
            header: 'Status',
            cell: (item) => <span className={STATUS_CLASS[item.status]}>{item.status === 'conflict' ? 'CONFLICT' : item.status}</span>,
          },
          {
            header: 'What changes',
            cell: (item) => (
              <div>
                {item.changes.length ? (
                  <ul className="plain-list">
                    {item.changes.map((change) => (
                      <li key={change.field}>
                        <strong>{change.field}</strong>: {change.from === '' ? '' : `${change.from} → `}
                        {change.to}
                      </li>
                    ))}
                  </ul>
                ) : null}
                {item.reason ? (
                  <p className={item.status === 'conflict' ? 'notice notice-error' : 'muted'} data-testid="config-item-reason">
                    {item.reason}
                  </p>
                ) : null}
              </div>
            ),
          },
        ]}
      />
      <div className="actions">
        <button
          type="button"
          className="button button-primary"
          disabled={chosen.size === 0 || (needsTrust && !confirmed) || imported.pending || !allowed.allowed}
          title={allowed.reason ?? (needsTrust && !confirmed ? 'Confirm the exporter’s fingerprint first.' : undefined)}
          data-testid="config-import-button"
          onClick={() => {
            const request = {
              // The file reviewed, by its hash: a file replaced since is refused (CONFIG_IMPORT_FILE_CHANGED).
              sha256: review.sha256,
              items: [...chosen],
              ...(needsTrust && exporter ? { trustExporter: exporter.fingerprint } : {}),
              ...(passphrase ? { secretsPassphrase: passphrase } : {}),
              ...(withoutSecrets ? { withoutSecrets: true } : {}),
            };
            void (
              'uploadId' in source
                ? importUpload.run({ uploadId: source.uploadId, ...request })
                : importPath.run({ path: source.path, ...request })
            ).then((done) => {
              if (done) onImported(done);
            });
          }}
        >
          {imported.pending ? 'Importing…' : `Import the ${chosen.size} chosen`}
        </button>
      </div>
      <DeniedNote allowed={allowed} testId="config-import-denied" />
      {imported.state.status === 'error' ? <ErrorNotice title="Nothing was imported" error={imported.state.error} /> : null}
    </div>
  );
}

/**
 * The control centers whose bundles this one trusts (confirmed by fingerprint at an import),
 * each revocable: a revoked exporter's bundles are untrusted again, shown by fingerprint and
 * confirmed anew before anything of theirs is imported.
 */
function TrustedExportersCard() {
  const allowed = useAllowed('import-bundle');
  const keys = useApiQuery('configBundles.keys', {});
  const revoke = useApiAction('configBundles.revokeExporter');
  const [asked, setAsked] = useState<string | null>(null);
  const trusted = keys.data?.trusted ?? [];
  return (
    <div className="card stack" data-testid="config-trusted-exporters">
      <h3>Trusted exporters</h3>
      <p className="muted">
        Other control centers whose configuration bundles this one accepts without asking again. Revoke one that is lost, retired or no
        longer yours: its bundles are then treated as from an unknown exporter.
      </p>
      {keys.error ? <ErrorNotice title="The trusted exporters cannot be listed" error={keys.error} /> : null}
      {keys.data && trusted.length === 0 ? <p data-testid="config-trusted-none">No other control center is trusted yet.</p> : null}
      {trusted.length ? (
        <DataTable
          className="config-trusted-table"
          rows={trusted}
          rowKey={(key) => key.fingerprint}
          rowProps={(key) => ({ 'data-fingerprint': key.fingerprint })}
          columns={[
            { header: 'Fingerprint', cell: (key) => <span className="mono">{key.fingerprint}</span> },
            { header: 'Calls itself', cell: (key) => key.label },
            { header: 'Trusted', cell: (key) => `${new Date(key.trustedAt).toLocaleString()} (${key.trustSource})` },
            {
              label: 'Revoke',
              cell: (key) =>
                asked === key.fingerprint ? (
                  <span className="actions">
                    <button
                      type="button"
                      className="button button-danger"
                      disabled={revoke.pending || !allowed.allowed}
                      data-testid="config-revoke-confirm"
                      onClick={() =>
                        void revoke.run({ fingerprint: key.fingerprint }).then(() => {
                          setAsked(null);
                          void keys.refetch();
                        })
                      }
                    >
                      Stop trusting it
                    </button>
                    <button type="button" className="button" onClick={() => setAsked(null)}>
                      Keep
                    </button>
                  </span>
                ) : (
                  <button
                    type="button"
                    className="button"
                    disabled={!allowed.allowed}
                    title={allowed.reason ?? undefined}
                    data-testid="config-revoke"
                    onClick={() => setAsked(key.fingerprint)}
                  >
                    Revoke…
                  </button>
                ),
            },
          ]}
        />
      ) : null}
      <DeniedNote allowed={allowed} testId="config-revoke-denied" />
      {revoke.state.status === 'error' ? <ErrorNotice title="The exporter was not revoked" error={revoke.state.error} /> : null}
    </div>
  );
}
