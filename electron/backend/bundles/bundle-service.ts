import fs from 'node:fs';
import path from 'node:path';
import type { BundleImportResult, BundleSummary, BundleVerification, TrustedBundleKey } from '../../contract';
import { isApiError } from '../../contract';
import type { BundleKeysRepo } from '../store/bundle-keys-repo';
import type { BundleRow, BundlesRepo } from '../store/bundles-repo';
import { errorCode } from '../store/store-errors';
import { bundleImportFailedError, bundleKeyUnknownError, bundleVersionConflictError } from './bundle-errors';
import { architecturesOf, BUNDLE_EXTENSION, BundleManifestSchema, type BundleManifest } from './bundle-manifest';
import { checkCompatibility } from './compatibility';
import { sha256OfFile } from './hash-file';
import { partialCopyPath, removeStalePartialCopies } from './partial-copies';
import { inspectBundle, type InspectedBundle } from './read-bundle';

export interface BundleServiceDeps {
  dataDir: string;
  keys: BundleKeysRepo;
  bundles: BundlesRepo;
  /** Runs `fn` in one database transaction. */
  transaction<T>(fn: () => T): T;
  /** This control center's version, which a bundle's compatibility range must admit. */
  controlCenterVersion: string;
  now: () => number;
  /** Who trusts keys through this backend (desktop, web, cli), for the record. */
  actor: string;
  logger?: { info(o: object, m: string): void; warn(o: object, m: string): void };
}

/** Imported bundles live here, relative to the data directory. */
const BUNDLES_DIR = 'bundles';

export interface ImportOptions {
  trustKey?: string;
  /**
   * The file is the backend's own (a browser's upload, web mode) and may be moved into the
   * data directory instead of copied: a multi-GB bundle is not written twice. Its SHA-256, as
   * computed while it was received, must be the one verified (a mismatch is refused).
   */
  owned?: { sha256: string };
}

export interface BundleService {
  /** Checks a bundle without storing anything; an untrusted signer is reported, not refused. */
  verify(file: string): Promise<BundleVerification>;
  /**
   * Imports a bundle. `trustKey` confirms the signer's fingerprint when it is not trusted
   * yet; a different one is refused. Importing the same file again changes nothing.
   */
  import(file: string, options?: ImportOptions): Promise<BundleImportResult>;
  list(): BundleSummary[];
  trustedKeys(): TrustedBundleKey[];
}

/**
 * Verifies and imports release bundles. Nothing is stored until every check passed: the
 * archive, each checksum, the signature, the version compatibility, and the signer's key,
 * which is either trusted already or confirmed by its exact fingerprint for this import
 * (as a host key is). The file is then copied under a temporary name, its copy hashed
 * again, renamed into place, and recorded together with the key in one transaction.
 */
export function createBundleService(deps: BundleServiceDeps): BundleService {
  const bundlesDir = path.join(deps.dataDir, BUNDLES_DIR);
  // An import killed while it copied (kill -9, a power cut) left its partial copy behind.
  for (const { file, bytes } of removeStalePartialCopies(bundlesDir)) {
    deps.logger?.info({ file, bytes }, 'removed the partial copy of an import that did not finish');
  }

  async function inspect(file: string): Promise<InspectedBundle> {
    try {
      const inspected = await inspectBundle(file);
      checkCompatibility(file, inspected.manifest, deps.controlCenterVersion);
      return inspected;
    } catch (error) {
      if (isApiError(error)) deps.logger?.warn({ bundle: file, code: error.code, reason: error.message }, 'bundle refused');
      throw error;
    }
  }

  function summarize(row: BundleRow): BundleSummary {
    const manifest = BundleManifestSchema.parse(JSON.parse(row.manifest));
    return {
      ...contentsOf(manifest, row.fileSha256, row.size),
      id: row.id,
      path: path.resolve(deps.dataDir, row.path),
      importedAt: row.importedAt,
      signer: { fingerprint: row.signerFingerprint, label: deps.keys.get(row.signerFingerprint)?.label ?? '' },
    };
  }

  /**
   * Copies `source` to `target` through a temporary file whose own hash must be `sha256`; an
   * owned source (an upload) is moved there instead where it is on the same filesystem, its
   * hash already known from its receipt.
   */
  async function placeCopy(source: string, target: string, sha256: string, owned?: { sha256: string }): Promise<void> {
    const temp = partialCopyPath(bundlesDir);
    try {
      // Private like the rest of the data directory (README, "Where data is kept"); copyFile keeps the source's mode.
      fs.mkdirSync(bundlesDir, { recursive: true, mode: 0o700 });
      const moved = owned !== undefined && (await moveOwned(source, temp));
      if (!moved) await fs.promises.copyFile(source, temp, fs.constants.COPYFILE_EXCL);
      await fs.promises.chmod(temp, 0o600);
      const copied = moved ? owned.sha256 : await sha256OfFile(temp);
      if (copied !== sha256) {
        throw bundleImportFailedError(
          source,
          `the copy's SHA-256 (${copied}) differs from the bundle just verified (${sha256}); the file changed while it was imported`,
          'Make sure nothing is writing to the bundle file, then import it again.',
        );
      }
      const handle = await fs.promises.open(temp, 'r');
      await handle.sync().finally(() => handle.close());
      fs.renameSync(temp, target);
    } catch (error) {
      fs.rmSync(temp, { force: true });
      if (isApiError(error)) throw error;
      const code = errorCode(error);
      throw bundleImportFailedError(
        source,
        // No backend path in the words: a browser's person reads them too.
        `copying it into the control center's bundle store failed (${code ?? (error as Error).message})`,
        code === 'ENOSPC'
          ? "Free space on the disk that holds the control center's data directory, then import again."
          : "Check that the control center's data directory (its bundles folder) is writable by the user running it, then import again.",
        error,
      );
    }
  }

  /** Moves an owned file to `temp`; false where it must be copied (another filesystem). */
  async function moveOwned(source: string, temp: string): Promise<boolean> {
    try {
      await fs.promises.rename(source, temp);
      return true;
    } catch (error) {
      if (errorCode(error) === 'EXDEV') return false;
      throw error;
    }
  }

  function isIntact(row: BundleRow): boolean {
    const stat = fs.statSync(path.resolve(deps.dataDir, row.path), { throwIfNoEntry: false });
    return stat !== undefined && stat.isFile() && stat.size === row.size;
  }

  return {
    async verify(file: string): Promise<BundleVerification> {
      const source = path.resolve(file);
      const inspected = await inspect(source);
      const key = deps.keys.get(inspected.signer.fingerprint);
      return {
        ...contentsOf(inspected.manifest, inspected.sha256, inspected.sizeBytes),
        path: source,
        fileCount: inspected.files.size,
        signer: {
          fingerprint: inspected.signer.fingerprint,
          label: key?.label ?? inspected.signer.keyLabel,
          trusted: key !== null,
          trustedAt: key?.trustedAt ?? null,
        },
      };
    },

    async import(file: string, options: ImportOptions = {}): Promise<BundleImportResult> {
      const source = path.resolve(file);
      const inspected = await inspect(source);
      if (options.owned !== undefined && options.owned.sha256 !== inspected.sha256) {
        throw bundleImportFailedError(
          source,
          `its SHA-256 (${inspected.sha256}) is not the one computed as it was received (${options.owned.sha256}); it changed on the control center since`,
          'Upload the bundle again.',
        );
      }
      const { signer, manifest } = inspected;
      const trusted = deps.keys.get(signer.fingerprint);
      if (!trusted) {
        const confirmed = options.trustKey?.trim().replace(/=+$/, '');
        if (confirmed === undefined || confirmed !== signer.fingerprint) {
          const error = bundleKeyUnknownError(source, signer, confirmed);
          deps.logger?.warn({ bundle: source, code: error.code, fingerprint: signer.fingerprint }, 'bundle refused');
          throw error;
        }
      }

      const existing = deps.bundles.bySha256(inspected.sha256);
      if (existing) {
        // The same bytes were imported before; put the copy back if someone removed it.
        if (!isIntact(existing)) await placeCopy(source, path.resolve(deps.dataDir, existing.path), inspected.sha256, options.owned);
        return { bundle: summarize(existing), alreadyImported: true, keyTrusted: false };
      }

      // Another file under the same name@version is refused: installs and hosts name a release by it.
      const conflictOf = () => {
        const other = deps.bundles.byRelease(manifest.name, manifest.version).find((row) => row.fileSha256 !== inspected.sha256);
        return other
          ? bundleVersionConflictError(source, `${manifest.name}@${manifest.version}`, inspected.sha256, { sha256: other.fileSha256 })
          : null;
      };
      const conflict = conflictOf();
      if (conflict) {
        deps.logger?.warn({ bundle: source, code: conflict.code, sha256: inspected.sha256 }, 'bundle refused');
        throw conflict;
      }

      const relative = path.join(BUNDLES_DIR, `${manifest.name}-${manifest.version}-${inspected.sha256.slice(0, 12)}${BUNDLE_EXTENSION}`);
      const target = path.resolve(deps.dataDir, relative);
      await placeCopy(source, target, inspected.sha256, options.owned);
      let keyTrusted = false;
      let id: number;
      try {
        id = deps.transaction(() => {
          if (!deps.keys.get(signer.fingerprint)) {
            deps.keys.trust(
              { fingerprint: signer.fingerprint, publicKey: signer.publicKey, label: signer.keyLabel },
              deps.now(),
              deps.actor,
            );
            keyTrusted = true;
          }
          return deps.bundles.insert({
            name: manifest.name,
            version: manifest.version,
            signerFingerprint: signer.fingerprint,
            manifest: JSON.stringify(manifest),
            fileSha256: inspected.sha256,
            size: inspected.sizeBytes,
            path: relative,
            importedAt: deps.now(),
          });
        });
      } catch (error) {
        // Another import of the same file won the race: its row names this very copy.
        const raced = deps.bundles.bySha256(inspected.sha256);
        if (raced) return { bundle: summarize(raced), alreadyImported: true, keyTrusted: false };
        fs.rmSync(target, { force: true });
        // Another file of this name@version won the race (the store's trigger refused this one).
        const lost = conflictOf();
        if (lost) throw lost;
        throw bundleImportFailedError(
          source,
          `recording it in the database failed (${errorCode(error) ?? (error as Error).message})`,
          `Check that the data directory ${deps.dataDir} is writable and has free space, then import again.`,
          error,
        );
      }
      deps.logger?.info(
        {
          bundle: source,
          name: manifest.name,
          version: manifest.version,
          sha256: inspected.sha256,
          signer: signer.fingerprint,
          keyTrusted,
        },
        'bundle imported',
      );
      return { bundle: summarize(deps.bundles.get(id)!), alreadyImported: false, keyTrusted };
    },

    list(): BundleSummary[] {
      return deps.bundles.list().map(summarize);
    },

    trustedKeys(): TrustedBundleKey[] {
      return deps.keys.list().map(({ fingerprint, label, trustedAt, trustSource }) => ({ fingerprint, label, trustedAt, trustSource }));
    },
  };
}

function contentsOf(
  manifest: BundleManifest,
  sha256: string,
  sizeBytes: number,
): Omit<BundleSummary, 'id' | 'path' | 'importedAt' | 'signer'> {
  return {
    name: manifest.name,
    version: manifest.version,
    createdAt: manifest.createdAt,
    components: Object.fromEntries(
      Object.entries(manifest.components).map(([name, c]) => [name, { version: c.version, dependsOn: [...c.dependsOn] }]),
    ),
    architectures: architecturesOf(manifest),
    profiles: Object.keys(manifest.profiles).sort(),
    compatibility: { ...manifest.compatibility },
    sha256,
    sizeBytes,
  };
}
