import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { ApiError, type ConfigExportResult, type ConfigImportResult, type ConfigKeys, type ConfigReview } from '../../../contract';
import type { SecretVault } from '../../secrets/secret-vault';
import type { ExporterKeysRepo } from '../../store/exporter-keys-repo';
import { applyItems, chooseItems } from './apply-config';
import { checkBundleKeys } from './check-key-secrets';
import { configBundleBytes, readConfigFile, writeExportFile, type ConfigFile } from './config-bundle-file';
import { configExporterUnknownError, configFileChangedError, configPassphraseMissingError } from './config-bundle-errors';
import { applyOperators } from './config-operators';
import type { ConfigDocument, ExportedSecrets, ExportedSiteFile } from './config-document';
import { configDocumentToYaml, parseConfigDocument } from './config-yaml';
import { controlCenterKey } from './control-center-key';
import { openExportSecrets, sealedSecretNames, sealExportSecrets } from './export-secrets';
import { holdUnsignedKeys, itemId, reviewDocument, siteFileName, type ReviewStore } from './review-config';
import { readSiteFiles, siteFilePlace, stageSiteFiles, type StagedFiles } from './site-files';
import { storeDocument, storeSecrets } from './store-document';

export interface ConfigExportRequest {
  path: string;
  format: 'bundle' | 'yaml';
  install?: string | undefined;
  secretsPassphrase?: string | undefined;
}

export interface ConfigOpenRequest {
  path: string;
  secretsPassphrase?: string | undefined;
  withoutSecrets?: boolean | undefined;
  /**
   * false for a browser's upload (web mode): a host logging in with a key file or the SSH agent
   * of the backend's machine is blocked in the review and never applied. The CLI and the desktop app: true (the default).
   */
  backendLogins?: boolean | undefined;
}

export interface ConfigImportRequest extends ConfigOpenRequest {
  items: 'all' | string[];
  trustExporter?: string | undefined;
  /** The SHA-256 the review reported: the file imported must be the one reviewed. */
  sha256: string;
}

/** Configuration bundles and YAML exports: export from this store, review a file against it, import what is chosen. */
export interface ConfigBundleService {
  export(request: ConfigExportRequest): Promise<ConfigExportResult>;
  review(request: ConfigOpenRequest): Promise<ConfigReview>;
  import(request: ConfigImportRequest): Promise<ConfigImportResult>;
  keys(): ConfigKeys;
  revokeExporter(fingerprint: string): { revoked: string; label: string };
}

export interface ConfigBundleServiceDeps {
  store: ReviewStore;
  exporterKeys: ExporterKeysRepo;
  vault: SecretVault;
  /** Runs `fn` in one immediate transaction: an import is applied whole or not at all. */
  transaction<T>(fn: () => T): T;
  now(): number;
  /** Who trusts an exporter or pins a key through an import: desktop, web or cli (recorded beside the trust). */
  actor: string;
  /** The data directory: the site's alert rules and policies are files in it. */
  dataDir: string;
  /**
   * Inside the import's transaction: an operator the import disables loses what disabling one
   * here takes (browser sign-ins, runtime certificates), as the operator service does.
   */
  operatorDisabled?: (operator: { id: number; name: string }, reason: string) => void;
  /** After an import that changed operators committed: the runtimes are told at once (as the operator service does). */
  operatorsChanged?: () => void;
}

/** A sealed secret's name (`host/db-1/login`) as the review item it belongs to; null for a name this version does not know. */
function sealedItem(name: string): { id: string; secret: string } | null {
  const match = /^(host|install)\/(.+)\/(login|sudo|key|ca-key)$/.exec(name);
  if (!match) return null;
  const secret =
    match[3] === 'login' ? 'login secret' : match[3] === 'sudo' ? 'sudo password' : match[3] === 'key' ? 'private key' : 'CA key';
  return { id: itemId(match[1] as 'host' | 'install', match[2]!), secret };
}

interface OpenedFile {
  file: ConfigFile;
  document: ConfigDocument;
  secrets: ExportedSecrets | null;
}

export function createConfigBundleService(deps: ConfigBundleServiceDeps): ConfigBundleService {
  const { store, exporterKeys, vault } = deps;
  const ownFingerprint = () => exporterKeys.own()?.fingerprint ?? null;
  const placeOf = (file: ExportedSiteFile) => siteFilePlace(deps.dataDir, file);

  async function open(request: ConfigOpenRequest, secretsRequired: boolean, reviewedSha256?: string): Promise<OpenedFile> {
    const filePath = path.resolve(request.path);
    const file = await readConfigFile(filePath);
    // Before anything of it is parsed or a key derived: a swapped file is that, not a wrong passphrase.
    if (reviewedSha256 !== undefined && file.sha256 !== reviewedSha256)
      throw configFileChangedError(file.file, reviewedSha256, file.sha256);
    const document = parseConfigDocument(file.configText, file.kind === 'bundle' ? `${filePath} (config.yaml)` : filePath);
    let secrets: ExportedSecrets | null = null;
    if (file.kind === 'bundle' && file.secretsText !== null && !request.withoutSecrets) {
      if (request.secretsPassphrase !== undefined)
        secrets = await openExportSecrets(file.secretsText, request.secretsPassphrase, filePath, file.configText);
      else if (secretsRequired) throw configPassphraseMissingError(filePath);
    }
    if (secrets !== null) checkBundleKeys(document, secrets, filePath);
    return { file, document, secrets };
  }

  /** The review of an opened file: a YAML export's new keys held as conflicts (it is signed by no one). */
  function reviewOf({ file, document, secrets }: OpenedFile, backendLogins: boolean): ConfigReview['items'] {
    const items = reviewDocument(store, vault, document, secrets, placeOf, { backendLogins });
    return file.kind === 'bundle' ? items : holdUnsignedKeys(items);
  }

  function exporterOf(file: ConfigFile): ConfigReview['exporter'] {
    if (file.kind !== 'bundle') return null;
    const own = file.exporter.fingerprint === ownFingerprint();
    return {
      fingerprint: file.exporter.fingerprint,
      label: file.exporter.label,
      own,
      trusted: own || exporterKeys.trusted(file.exporter.fingerprint) !== null,
    };
  }

  return {
    async export(request) {
      const document = storeDocument(store, request.install ?? null, readSiteFiles(deps.dataDir));
      const yaml = configDocumentToYaml(document);
      const filePath = path.resolve(request.path);
      let bytes: Buffer;
      let signedBy: string | null = null;
      let secretCount = 0;
      if (request.format === 'yaml') {
        if (request.secretsPassphrase !== undefined) {
          throw new ApiError(
            'BAD_PARAMS',
            'A YAML export never carries secrets: it is meant for version control.',
            'Export a configuration bundle to carry secrets sealed to a passphrase, or export YAML without them.',
          );
        }
        bytes = Buffer.from(yaml, 'utf8');
      } else {
        const key = controlCenterKey(exporterKeys, vault, deps.now());
        const secrets = request.secretsPassphrase === undefined ? null : storeSecrets(store, vault, document);
        secretCount = secrets === null ? 0 : Object.keys(secrets).length;
        bytes = await configBundleBytes({
          configText: yaml,
          secretsText: secrets === null ? null : await sealExportSecrets(secrets, request.secretsPassphrase!, yaml),
          scope: { install: request.install ?? null },
          exporter: { fingerprint: key.fingerprint, publicKey: key.publicKey, label: `SutazAI control center on ${os.hostname()}` },
          privateKey: key.privateKey,
        });
        signedBy = key.fingerprint;
      }
      writeExportFile(filePath, bytes);
      return {
        path: filePath,
        format: request.format,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        hosts: document.hosts.length,
        installs: document.installs.length,
        bundleKeys: document.bundleSigningKeys.length,
        siteFiles: document.siteFiles.length,
        secrets: secretCount,
        signedBy,
      };
    },

    async review(request) {
      const opened = await open(request, false);
      const { file, secrets } = opened;
      const sealedText = file.kind === 'bundle' ? file.secretsText : null;
      // Not opened (no passphrase, or declined): say which items carry secrets the review did not compare.
      const sealedNotCompared =
        sealedText !== null && secrets === null
          ? (sealedSecretNames(sealedText, file.file) ?? []).map(sealedItem).filter((s) => s !== null)
          : [];
      return {
        path: file.file,
        kind: file.kind,
        exporter: exporterOf(file),
        hasSecrets: sealedText !== null,
        secretsCompared: secrets !== null,
        sealedNotCompared,
        sha256: file.sha256,
        items: reviewOf(opened, request.backendLogins !== false),
      };
    },

    async import(request) {
      const opened = await open(request, true, request.sha256);
      const { file, document, secrets } = opened;
      const exporter = exporterOf(file);
      const trustNow = exporter !== null && !exporter.trusted;
      if (trustNow && request.trustExporter !== exporter.fingerprint && file.kind === 'bundle') {
        throw configExporterUnknownError(file.file, exporter.fingerprint, exporter.label);
      }
      const now = deps.now();
      const source = `config-import:${deps.actor}`;
      const staged: { files: StagedFiles | null } = { files: null };
      let outcome: ConfigImportResult;
      let operatorsApplied = false;
      try {
        outcome = deps.transaction(() => {
          // Judged again inside the transaction: what is applied is measured against the store as it is now.
          const items = reviewOf(opened, request.backendLogins !== false);
          const { apply, left } = chooseItems(items, request.items);
          if (trustNow && file.kind === 'bundle')
            exporterKeys.trust(
              { fingerprint: file.exporter.fingerprint, publicKey: file.exporter.publicKey, label: file.exporter.label },
              now,
              deps.actor,
            );
          // Files first, beside their places: a failure in the store's part below drops them again.
          const chosen = new Set(apply.map((i) => i.id));
          const files = document.siteFiles.filter((f) => chosen.has(itemId('site-file', siteFileName(f))));
          staged.files = stageSiteFiles(deps.dataDir, files);
          const applied = applyItems(store, vault, document, secrets, apply, now, source);
          const operators = applyOperators(store, document, chosen, now, deps.operatorDisabled ?? (() => undefined));
          operatorsApplied = operators.applied.length > 0;
          applied.push(...operators.applied);
          applied.push(...files.map((f) => itemId('site-file', siteFileName(f))));
          return { applied, left, exporterTrusted: trustNow, operatorsWithoutPassword: operators.withoutPassword };
        });
      } catch (error) {
        staged.files?.discard();
        throw error;
      }
      if (operatorsApplied) deps.operatorsChanged?.();
      // The store's part has committed: a file that cannot be put in place now is said, not thrown
      // (throwing would report a failed import that was in fact applied).
      for (const { file, error } of staged.files?.commit() ?? []) {
        const id = itemId('site-file', siteFileName(file));
        outcome.applied = outcome.applied.filter((a) => a !== id);
        outcome.left.push({ id, reason: `not put in place (${error}); the rest was imported: import this item again` });
      }
      return outcome;
    },

    keys() {
      const own = exporterKeys.own();
      return {
        own: own ? { fingerprint: own.fingerprint, createdAt: own.createdAt } : null,
        trusted: exporterKeys
          .listTrusted()
          .map(({ fingerprint, label, trustedAt, trustSource }) => ({ fingerprint, label, trustedAt, trustSource })),
      };
    },

    revokeExporter(fingerprint) {
      const trusted = exporterKeys.trusted(fingerprint);
      if (!trusted || !exporterKeys.revoke(fingerprint)) {
        throw new ApiError(
          'NOT_FOUND',
          `No trusted exporter has the fingerprint ${fingerprint}.`,
          'Pick one from the list of trusted exporters (this control center’s own key is not revoked: it signs its exports).',
          { cliRemedy: 'See `sutazai config keys` for the trusted exporters’ fingerprints.' },
        );
      }
      return { revoked: fingerprint, label: trusted.label };
    },
  };
}
