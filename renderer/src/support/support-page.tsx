import { useEffect, useId, useState } from 'react';
import type { SupportAnalysis, SupportFinding, SupportPreview, SupportRule, SupportTarget } from '../../../electron/contract';
import { useApiQuery, useHostList } from '../api/queries';
import { inBrowser } from '../api/browser-files';
import { useUpload } from '../api/use-upload';
import { BrowserFileField } from '../ui/browser-file-field';
import { UploadProgress } from '../ui/upload-progress';
import { useDownloadHandOver } from '../api/use-download-hand-over';
import { useApiAction } from '../api/use-api-action';
import { formatDateTime } from '../format/time';
import { DeniedNote } from '../operators/denied-note';
import { useAllowed } from '../operators/use-session';
import { BackendPathField } from '../ui/backend-path-field';
import { Card } from '../ui/card';
import { DataTable } from '../ui/data-table';
import { ErrorNotice } from '../ui/query-state';
import './support.css';

/**
 * Support bundles (issue 15, item 4): collect what a vendor needs for an install or a host,
 * review every redaction (and add rules) before anything is written, save one archive;
 * and analyze a bundle from any site, which needs nothing of the site.
 */
export function SupportPage() {
  return (
    <section className="page stack" data-testid="support-page">
      <h1>Support bundles</h1>
      <p className="page-sub">
        Collect what a vendor needs to diagnose an install or a host into one archive. Passwords, tokens, private keys and the vault’s
        secrets are replaced before anything is written; review every replacement, add your own rules, then save it (in a browser: download
        it). Analyze a bundle someone sent you below.
      </p>
      <CollectSection />
      <AnalyzeSection />
    </section>
  );
}

function CollectSection() {
  const allowed = useAllowed('export');
  const collect = useApiAction('support.collect');
  const targetId = useId();
  const logId = useId();
  const installs = useApiQuery('installs.list', {});
  const hosts = useHostList();
  const [target, setTarget] = useState('');
  const [logMiB, setLogMiB] = useState('1');
  const collected = collect.state.status === 'success' ? collect.state.result : null;
  const parsedTarget = targetOf(target);
  const mib = Number(logMiB);
  return (
    <Card title="Collect" testId="support-collect">
      <div className="stack">
        <form
          className="support-collect-form"
          onSubmit={(event) => {
            event.preventDefault();
            if (parsedTarget) void collect.run({ target: parsedTarget, logBytesPerProcess: Math.round(mib * 1024 * 1024) });
          }}
        >
          <div className="field">
            <label className="field-label" htmlFor={targetId}>
              Install or host
            </label>
            <select id={targetId} className="input" value={target} onChange={(e) => setTarget(e.target.value)} data-testid="support-target">
              <option value="">Choose…</option>
              <optgroup label="Installs (every host of it)">
                {(installs.data ?? []).map((install) => (
                  <option key={install.name} value={`install:${install.name}`}>
                    {install.name}
                  </option>
                ))}
              </optgroup>
              <optgroup label="Hosts">
                {(hosts.data ?? [])
                  .filter((host) => host.kind === 'ssh')
                  .map((host) => (
                    <option key={host.id} value={`host:${host.id}`}>
                      {host.name}
                    </option>
                  ))}
              </optgroup>
            </select>
          </div>
          <div className="field">
            <label className="field-label" htmlFor={logId}>
              Log per process (MiB, from its end)
            </label>
            <input
              id={logId}
              className="input figure support-log-mib"
              type="number"
              min="0.01"
              max="64"
              step="any"
              value={logMiB}
              onChange={(e) => setLogMiB(e.target.value)}
            />
          </div>
          <div className="actions">
            <button
              type="submit"
              className="button button-primary"
              disabled={!parsedTarget || !(mib > 0 && mib <= 64) || collect.pending || !allowed.allowed}
              title={allowed.reason ?? undefined}
              data-testid="support-collect-button"
            >
              {collect.pending ? 'Collecting…' : 'Collect'}
            </button>
          </div>
        </form>
        <DeniedNote allowed={allowed} testId="support-denied" />
        <p className="field-hint">
          Each host’s state, process list and last log lines come from its runtime; events, alerts, facts, preflight results, the merged
          configuration (with the layer of each key) and this app’s own log lines from the store. Nothing is written until you save.
        </p>
        {collect.state.status === 'pending' ? (
          <div className="state state-loading" role="status">
            <span className="spinner" aria-hidden="true" /> Collecting from the hosts…
          </div>
        ) : null}
        {collect.state.status === 'error' ? <ErrorNotice title="Nothing was collected" error={collect.state.error} /> : null}
        {collected ? <Review key={collected.previewId} collected={collected} /> : null}
      </div>
    </Card>
  );
}

function targetOf(value: string): SupportTarget | null {
  if (value.startsWith('install:')) return { install: value.slice('install:'.length) };
  if (value.startsWith('host:')) return { hostId: Number(value.slice('host:'.length)) };
  return null;
}

/** The preview of a collection under the chosen options and rules; each change previews again, nothing is written. */
function Review({ collected }: { collected: SupportPreview }) {
  const preview = useApiAction('support.preview');
  const [addresses, setAddresses] = useState(false);
  const [hostNames, setHostNames] = useState(false);
  const [rules, setRules] = useState<SupportRule[]>([]);
  const redaction = { addresses, hostNames, rules };
  const { run } = preview;
  useEffect(() => {
    if (addresses || hostNames || rules.length > 0)
      void run({ previewId: collected.previewId, redaction: { addresses, hostNames, rules } });
  }, [run, collected.previewId, addresses, hostNames, rules]);
  const shown = addresses || hostNames || rules.length > 0 ? (preview.state.status === 'success' ? preview.state.result : null) : collected;
  return (
    <div className="stack" data-testid="support-review">
      <h3>Review the redactions</h3>
      <div className="support-options">
        <label className="check">
          <input type="checkbox" checked={addresses} onChange={(e) => setAddresses(e.target.checked)} data-testid="support-addresses" />{' '}
          Replace IP addresses (each by the same ip-N everywhere)
        </label>
        <label className="check">
          <input type="checkbox" checked={hostNames} onChange={(e) => setHostNames(e.target.checked)} data-testid="support-host-names" />{' '}
          Replace host names and addresses of the inventory (each by the same host-N)
        </label>
      </div>
      <RuleEditor rules={rules} onChange={setRules} />
      {preview.state.status === 'error' ? <ErrorNotice title="These rules could not be applied" error={preview.state.error} /> : null}
      {preview.state.status === 'pending' ? (
        <div className="state state-loading" role="status">
          <span className="spinner" aria-hidden="true" /> Applying the rules…
        </div>
      ) : null}
      {shown ? <PreviewTable preview={shown} /> : null}
      {shown ? <SaveForm previewId={collected.previewId} redaction={redaction} /> : null}
    </div>
  );
}

function RuleEditor({ rules, onChange }: { rules: SupportRule[]; onChange: (rules: SupportRule[]) => void }) {
  const nameId = useId();
  const patternId = useId();
  const [name, setName] = useState('');
  const [pattern, setPattern] = useState('');
  const [regex, setRegex] = useState(false);
  return (
    <div className="stack">
      <form
        className="support-rule-form"
        onSubmit={(event) => {
          event.preventDefault();
          onChange([...rules, { name: name.trim(), pattern, regex, ignoreCase: false }]);
          setName('');
          setPattern('');
        }}
      >
        <div className="field">
          <label className="field-label" htmlFor={nameId}>
            Rule name
          </label>
          <input
            id={nameId}
            className="input"
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="customer"
            data-testid="support-rule-name"
          />
        </div>
        <div className="field">
          <label className="field-label" htmlFor={patternId}>
            Text to replace
          </label>
          <input
            id={patternId}
            className="input mono"
            value={pattern}
            onChange={(e) => setPattern(e.target.value)}
            placeholder="ACME Corp"
            data-testid="support-rule-pattern"
          />
        </div>
        <label className="check">
          <input type="checkbox" checked={regex} onChange={(e) => setRegex(e.target.checked)} /> Regular expression (replaces each line it
          matches)
        </label>
        <button
          type="submit"
          className="button"
          disabled={!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name.trim()) || pattern === ''}
          data-testid="support-rule-add"
        >
          Add rule
        </button>
      </form>
      {rules.length > 0 ? (
        <ul className="support-rules">
          {rules.map((rule, index) => (
            <li key={`${rule.name}-${index}`}>
              <span className="mono">{rule.name}</span>: {rule.regex ? `/${rule.pattern}/` : `“${rule.pattern}”`}{' '}
              <button type="button" className="button" onClick={() => onChange(rules.filter((_, i) => i !== index))}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function PreviewTable({ preview }: { preview: SupportPreview }) {
  const counts = Object.entries(preview.countsByRule);
  return (
    <div className="stack" data-testid="support-preview">
      <p>
        {preview.files.length} files of {preview.targetName}, collected {formatDateTime(preview.collectedAtMs)}.{' '}
        {counts.length === 0 ? 'Nothing was replaced.' : `Replaced: ${counts.map(([rule, n]) => `${n} by ${rule}`).join(', ')}.`}
      </p>
      {preview.gaps.length > 0 ? (
        <ul className="support-gaps" data-testid="support-gaps">
          {preview.gaps.map((gap) => (
            <li key={gap}>Not collected: {gap}</li>
          ))}
        </ul>
      ) : null}
      {preview.redactions.length > 0 ? (
        <DataTable
          className="support-redactions"
          rows={preview.redactions}
          rowKey={(r, i) => `${r.file}:${r.line}:${i}`}
          rowProps={(r) => ({ 'data-rule': r.rule, 'data-file': r.file })}
          columns={[
            { header: 'File', className: 'mono', cell: (r) => r.file },
            { header: 'Line', numeric: true, cell: (r) => r.line },
            { header: 'Rule', cell: (r) => r.rule },
            { header: 'Replaced text', className: 'mono', cell: (r) => r.masked },
            { header: 'Written as', className: 'mono', cell: (r) => r.replacement },
          ]}
        />
      ) : null}
      {preview.omittedRedactions > 0 ? <p className="muted">… and {preview.omittedRedactions} more, counted above.</p> : null}
      <details>
        <summary>Files in the bundle</summary>
        <ul className="mono support-files">
          {preview.files.map((f) => (
            <li key={f.path}>
              {f.path} ({f.bytes} bytes)
            </li>
          ))}
        </ul>
      </details>
    </div>
  );
}

type Redaction = { addresses: boolean; hostNames: boolean; rules: SupportRule[] };

/** Where the bundle goes: to this computer through the browser (web mode), or to a path on this machine (the desktop app). */
function SaveForm(props: { previewId: string; redaction: Redaction }) {
  return inBrowser() ? <DownloadForm {...props} /> : <SaveToPathForm {...props} />;
}

function DownloadForm({ previewId, redaction }: { previewId: string; redaction: Redaction }) {
  const download = useApiAction('support.download');
  const allowed = useAllowed('export');
  const { handOver, reset, take } = useDownloadHandOver();
  const busy = download.pending || handOver.status === 'pending';
  return (
    <form
      className="stack"
      onSubmit={(event) => {
        event.preventDefault();
        reset();
        void download.run({ previewId, redaction }).then(take);
      }}
    >
      <p className="field-hint">
        The bundle is made on the control center, redacted exactly as previewed above, and saved by your browser to this computer (its usual
        downloads folder).
      </p>
      <div>
        <button
          type="submit"
          className="button button-primary"
          disabled={busy || !allowed.allowed}
          title={allowed.reason ?? undefined}
          data-testid="support-download"
        >
          {busy ? 'Preparing…' : 'Download bundle'}
        </button>
      </div>
      {download.state.status === 'error' ? <ErrorNotice title="The bundle was not made" error={download.state.error} /> : null}
      {handOver.status === 'error' ? <ErrorNotice title="The bundle was not downloaded" error={handOver.error} /> : null}
      {download.state.status === 'success' && handOver.status === 'done' ? (
        <div className="key-panel key-panel-ok" role="status" data-testid="support-saved">
          Downloaded {download.state.result.fileName}: {download.state.result.files} files, {download.state.result.redactions} replacements,{' '}
          {download.state.result.bytes} bytes. SHA-256 <span className="mono">{download.state.result.sha256}</span>
        </div>
      ) : null}
    </form>
  );
}

function SaveToPathForm({ previewId, redaction }: { previewId: string; redaction: Redaction }) {
  const save = useApiAction('support.save');
  const allowed = useAllowed('export');
  const [path, setPath] = useState('');
  return (
    <form
      className="stack"
      onSubmit={(event) => {
        event.preventDefault();
        void save.run({ previewId, redaction, path: path.trim() });
      }}
    >
      <BackendPathField
        label="Save as"
        value={path}
        onChange={setPath}
        placeholder="/home/ops/site-support.tar"
        testId="support-save-path"
        hint="A new file on the machine the control center’s backend runs on, redacted exactly as previewed above."
      >
        <button
          type="submit"
          className="button button-primary"
          disabled={path.trim() === '' || save.pending || !allowed.allowed}
          title={allowed.reason ?? undefined}
          data-testid="support-save"
        >
          {save.pending ? 'Saving…' : 'Save bundle'}
        </button>
      </BackendPathField>
      {save.state.status === 'error' ? <ErrorNotice title="The bundle was not saved" error={save.state.error} /> : null}
      {save.state.status === 'success' ? (
        <div className="key-panel key-panel-ok" role="status" data-testid="support-saved">
          Saved {save.state.result.path}: {save.state.result.files} files, {save.state.result.redactions} replacements,{' '}
          {save.state.result.bytes} bytes. SHA-256 <span className="mono">{save.state.result.sha256}</span>
        </div>
      ) : null}
    </form>
  );
}

function AnalyzeSection() {
  return inBrowser() ? <AnalyzeUpload /> : <AnalyzePath />;
}

/** Web mode: the bundle is chosen on this computer and uploaded for this session, then analyzed. */
function AnalyzeUpload() {
  const analyze = useApiAction('support.analyzeUpload');
  const upload = useUpload('support');
  const [file, setFile] = useState<File | null>(null);
  const busy = upload.state.status === 'sending' || analyze.pending;
  return (
    <Card title="Analyze a bundle" testId="support-analyze">
      <div className="stack">
        <form
          onSubmit={(event) => {
            event.preventDefault();
            if (!file) return;
            analyze.reset();
            // Each analysis uses its upload up: the file is sent each time.
            void upload.send(file).then((receipt) => (receipt ? analyze.run({ uploadId: receipt.uploadId }) : undefined));
          }}
        >
          <BrowserFileField
            label="Bundle file"
            accept=".tar,application/x-tar"
            onChange={setFile}
            testId="support-analyze-file"
            hint="A bundle on this computer: it is sent to the control center, read there once and removed; no host of the site is contacted."
          >
            <button type="submit" className="button" disabled={file === null || busy} data-testid="support-analyze-button">
              {busy ? 'Analyzing…' : 'Analyze'}
            </button>
          </BrowserFileField>
        </form>
        <UploadProgress state={upload.state} failedTitle="The bundle could not be sent" />
        {analyze.state.status === 'error' ? <ErrorNotice title="The bundle could not be analyzed" error={analyze.state.error} /> : null}
        {analyze.state.status === 'success' ? <Findings analysis={analyze.state.result} /> : null}
      </div>
    </Card>
  );
}

function AnalyzePath() {
  const analyze = useApiAction('support.analyze');
  const [path, setPath] = useState('');
  return (
    <Card title="Analyze a bundle" testId="support-analyze">
      <div className="stack">
        <form
          onSubmit={(event) => {
            event.preventDefault();
            void analyze.run({ path: path.trim() });
          }}
        >
          <BackendPathField
            label="Bundle file"
            value={path}
            onChange={setPath}
            placeholder="/home/ops/site-support.tar"
            testId="support-analyze-path"
            hint="Reads only the file: no host of the site is contacted."
          >
            <button type="submit" className="button" disabled={path.trim() === '' || analyze.pending} data-testid="support-analyze-button">
              {analyze.pending ? 'Analyzing…' : 'Analyze'}
            </button>
          </BackendPathField>
        </form>
        {analyze.state.status === 'error' ? <ErrorNotice title="The bundle could not be analyzed" error={analyze.state.error} /> : null}
        {analyze.state.status === 'success' ? <Findings analysis={analyze.state.result} /> : null}
      </div>
    </Card>
  );
}

function Findings({ analysis }: { analysis: SupportAnalysis }) {
  return (
    <div className="stack" data-testid="support-findings">
      <p>
        {analysis.targetName}, collected {formatDateTime(analysis.collectedAtMs)}:{' '}
        {analysis.findings.length === 0
          ? 'no findings.'
          : `${analysis.findings.length} ${analysis.findings.length === 1 ? 'finding' : 'findings'}, the most severe first.`}
      </p>
      <ul className="support-finding-list">
        {analysis.findings.map((finding, i) => (
          <Finding key={i} finding={finding} />
        ))}
      </ul>
    </div>
  );
}

function Finding({ finding }: { finding: SupportFinding }) {
  return (
    <li className={`support-finding support-finding-${finding.severity}`} data-analyzer={finding.analyzer} data-severity={finding.severity}>
      <p>
        <span className={`badge severity severity-${finding.severity}`}>{finding.severity}</span>
        {finding.summary}
      </p>
      {finding.details.length > 0 ? <pre className="support-details">{finding.details.join('\n')}</pre> : null}
      <p className="muted">Remedy: {finding.remedy}</p>
    </li>
  );
}
