import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { BundleImportResult, BundleSummary, BundleVerification } from '../../../electron/contract';
import { invalidateBundles } from '../api/queries';
import { useApiAction } from '../api/use-api-action';
import { formatDateTime } from '../format/time';
import { BundleFacts } from './bundle-facts';
import { BundleKeyConfirm } from './bundle-key-confirm';
import { describeError, ErrorNotice } from '../ui/query-state';
import { DeniedNote } from '../operators/denied-note';
import { BackendPathField } from '../ui/backend-path-field';
import { BrowserFileField } from '../ui/browser-file-field';
import { UploadProgress } from '../ui/upload-progress';
import { inBrowser } from '../api/browser-files';
import { useUpload } from '../api/use-upload';
import type { Allowed } from '../operators/session-rules';
import { useAllowed } from '../operators/use-session';

function Refusal({ error }: { error: unknown }) {
  return (
    <div data-testid="bundle-refusal" data-code={describeError(error).code ?? ''}>
      <ErrorNotice title="The bundle was refused; nothing was stored" error={error} />
    </div>
  );
}

function Imported({ result, onAnother }: { result: BundleImportResult; onAnother: () => void }) {
  const { bundle } = result;
  return (
    <div className="key-panel key-panel-ok" role="status" data-testid="bundle-imported" data-already={String(result.alreadyImported)}>
      <p>
        {result.alreadyImported
          ? `${bundle.name} ${bundle.version} was imported before; nothing changed.`
          : `Imported ${bundle.name} ${bundle.version}.`}
        {result.keyTrusted ? ' Its signing key is now trusted: bundles it signs import without asking.' : ''}
      </p>
      <div className="actions">
        <button type="button" className="button" onClick={onAnother}>
          Import another
        </button>
      </div>
    </div>
  );
}

function TrustedSigner({
  verification,
  onImport,
  importing,
  allowed,
}: {
  verification: BundleVerification;
  onImport: () => void;
  importing: boolean;
  allowed: Allowed;
}) {
  const { signer } = verification;
  return (
    <div className="key-panel key-panel-ok" data-testid="bundle-key-trusted">
      <p>
        Signed by a key you trust{signer.trustedAt !== null ? ` (since ${formatDateTime(signer.trustedAt)})` : ''}
        {signer.label ? `, “${signer.label}”` : ''}: <span className="mono">{signer.fingerprint}</span>
      </p>
      <div className="actions">
        <button
          type="button"
          className="button button-primary"
          onClick={onImport}
          disabled={importing || !allowed.allowed}
          title={allowed.reason ?? undefined}
        >
          {importing ? 'Importing…' : 'Import'}
        </button>
      </div>
      <DeniedNote allowed={allowed} testId="bundle-import-denied" />
    </div>
  );
}

/**
 * Import of a release bundle: verify first (archive, checksums, signature, compatibility),
 * show what it holds and who signed it, then import; a signer not trusted yet is confirmed by
 * the operator, like a new host key. In the desktop app the bundle is named by its path on
 * the backend's machine; in a browser (web mode, where no such path may be named) it is chosen
 * on this computer and uploaded, then verified and imported by its upload's id. A wizard's
 * bundle step embeds it; `onImported` says which bundle the operator ended with.
 */
export function BundleImport({ onImported }: { onImported?: (bundle: BundleSummary) => void }) {
  const queryClient = useQueryClient();
  const browser = inBrowser();
  const [path, setPath] = useState('');
  const [chosen, setChosen] = useState<File | null>(null);
  const upload = useUpload('bundle');
  const verifyPath = useApiAction('bundles.verify');
  const verifyUpload = useApiAction('bundles.verifyUpload');
  const importPath = useApiAction('bundles.import');
  const importUpload = useApiAction('bundles.importUpload');
  const verify = browser ? verifyUpload : verifyPath;
  const importBundle = browser ? importUpload : importPath;
  // Anyone may verify a bundle on the backend's machine (it stores nothing); importing it, and trusting its signer with it, is an admin's.
  const importing = useAllowed('import-bundle');
  const trustingSigner = useAllowed(['import-bundle', 'trust-key']);
  // Web mode: the upload verified, held by the backend under its id for the import.
  const held = upload.state.status === 'held' && upload.state.file === chosen ? upload.state.receipt : null;

  const startOver = () => {
    verify.reset();
    importBundle.reset();
  };
  const runImport = async (verification: BundleVerification, trustKey?: string) => {
    const trust = trustKey === undefined ? {} : { trustKey };
    const result = browser
      ? held && (await importUpload.run({ uploadId: held.uploadId, ...trust }))
      : await importPath.run({ path: verification.path, ...trust });
    if (!result) return;
    await invalidateBundles(queryClient);
    onImported?.(result.bundle);
  };
  const verifyChosen = async () => {
    importBundle.reset();
    if (!browser) {
      await verifyPath.run({ path: path.trim() });
      return;
    }
    if (!chosen) return;
    verify.reset();
    const receipt = await upload.send(chosen);
    if (receipt) await verifyUpload.run({ uploadId: receipt.uploadId });
  };

  const sending = upload.state.status === 'sending';
  const busy = sending || verify.pending || importBundle.pending;
  const verification = verify.state.status === 'success' && (!browser || held !== null) ? verify.state.result : null;
  // In a browser a bundle is verified once sent, and the control center takes one only from whoever may import it.
  const sendAllowed = browser ? importing : null;
  const verifyButton = (
    <button
      type="submit"
      className="button"
      disabled={(browser ? chosen === null : path.trim() === '') || busy || sendAllowed?.allowed === false}
      title={sendAllowed?.reason ?? undefined}
      data-testid="bundle-verify-button"
    >
      {sending ? 'Sending…' : verify.pending ? 'Verifying…' : 'Verify'}
    </button>
  );
  return (
    <div className="stack" data-testid="bundle-import">
      <form
        className="bundle-path-form"
        onSubmit={(event) => {
          event.preventDefault();
          void verifyChosen();
        }}
      >
        {browser ? (
          <BrowserFileField
            label="Bundle file"
            accept=".sutazai-bundle"
            onChange={(file) => {
              setChosen(file);
              upload.reset();
              startOver();
            }}
            testId="bundle-file"
            hint="A .sutazai-bundle file on this computer: it is sent to the control center for this session, and nothing is stored until the archive, every file’s checksum, the signature and the version compatibility have been checked."
          >
            {verifyButton}
          </BrowserFileField>
        ) : (
          <BackendPathField
            label="Bundle file"
            value={path}
            onChange={(value) => {
              setPath(value);
              if (verify.state.status !== 'idle') startOver();
            }}
            placeholder="/home/ops/sutazai-0.1.0.sutazai-bundle"
            testId="bundle-path"
            hint="A path on the machine the control center’s backend runs on. Nothing is stored until the archive, every file’s checksum, the signature and the version compatibility have been checked."
          >
            {verifyButton}
          </BackendPathField>
        )}
      </form>
      {sendAllowed ? <DeniedNote allowed={sendAllowed} testId="bundle-verify-denied" /> : null}

      <UploadProgress state={upload.state} failedTitle="The bundle could not be sent; nothing was stored" />
      {verify.state.status === 'pending' ? (
        <div className="state state-loading" role="status">
          <span className="spinner" aria-hidden="true" />
          Verifying the archive, every checksum and the signature…
        </div>
      ) : null}
      {verify.state.status === 'error' ? <Refusal error={verify.state.error} /> : null}
      {verification ? (
        <div className="stack" data-testid="bundle-verified">
          <BundleFacts verification={verification} />
          {importBundle.state.status === 'success' ? (
            <Imported
              result={importBundle.state.result}
              onAnother={() => {
                setPath('');
                upload.reset();
                startOver();
              }}
            />
          ) : verification.signer.trusted ? (
            <TrustedSigner
              verification={verification}
              onImport={() => void runImport(verification)}
              importing={importBundle.pending}
              allowed={importing}
            />
          ) : (
            <BundleKeyConfirm
              verification={verification}
              onTrust={() => void runImport(verification, verification.signer.fingerprint)}
              onNotNow={startOver}
              trusting={importBundle.pending}
              allowed={trustingSigner}
            />
          )}
          {importBundle.state.status === 'error' ? <Refusal error={importBundle.state.error} /> : null}
        </div>
      ) : null}
    </div>
  );
}
