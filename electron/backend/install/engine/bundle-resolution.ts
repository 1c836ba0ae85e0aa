import fs from 'node:fs';
import path from 'node:path';
import type { BundleService } from '../../bundles/bundle-service';
import { architecturesOf, BundleManifestSchema, type Architecture } from '../../bundles/bundle-manifest';
import type { BundlesRepo } from '../../store/bundles-repo';
import type { InstallFile } from '../definition/install-file';
import {
  bundleNotImportedError,
  bundleRecordMissingError,
  importedCopyDamagedError,
  importedCopyMissingError,
  importedCopyWrongSizeError,
} from '../install-errors';
import { localPrefixSha256 } from '../steps/upload-bundle';
import { readBundleFiles } from './read-bundle-files';

/** The bundle an install uses, as the plan and apply need it. */
export interface ResolvedBundle {
  id: number;
  name: string;
  version: string;
  sha256: string;
  sizeBytes: number;
  /** The imported copy in the data directory. */
  file: string;
  architectures: Architecture[];
  manifestTemplate: string;
  systemdUnit: string | null;
}

/** From an install file's bundle (imported by name@version, or a file's path) to the imported copy a host receives. */
export interface BundleResolver {
  /** The imported bundle the file names; a path is imported first (a no-op for one imported before). */
  resolve(file: InstallFile): Promise<ResolvedBundle>;
  /**
   * The imported copy hashed again before its first upload in this resolver's life (and
   * again whenever the file changes): a copy damaged on the disk since the import is
   * refused here, before a byte of it reaches a host.
   */
  verifyCopy(bundle: ResolvedBundle): Promise<void>;
}

export interface BundleResolverDeps {
  dataDir: string;
  bundles: Pick<BundleService, 'import'>;
  bundlesRepo: Pick<BundlesRepo, 'get' | 'list'>;
}

export function createBundleResolver(deps: BundleResolverDeps): BundleResolver {
  // The manifest template and the unit, read once per bundle (by its SHA-256).
  const templates = new Map<string, { manifest: string; unit: string | null }>();
  const verified = new Map<string, Promise<void>>();

  async function resolve(file: InstallFile): Promise<ResolvedBundle> {
    let row;
    if ('path' in file.bundle) {
      // Importing verifies it and is a no-op for a bundle imported before; an untrusted signer is refused.
      const imported = await deps.bundles.import(file.bundle.path);
      row = deps.bundlesRepo.get(imported.bundle.id);
    } else {
      const { name, version } = file.bundle;
      row = deps.bundlesRepo.list().find((b) => b.name === name && b.version === version) ?? null;
      if (!row) throw bundleNotImportedError(file.file, name, version);
    }
    if (!row) throw bundleRecordMissingError();
    const bundleFile = path.resolve(deps.dataDir, row.path);
    const stat = fs.statSync(bundleFile, { throwIfNoEntry: false });
    if (!stat || stat.size !== row.size) throw importedCopyMissingError(row, bundleFile);
    const manifest = BundleManifestSchema.parse(JSON.parse(row.manifest));
    let files = templates.get(row.fileSha256);
    if (!files) {
      const names = [manifest.processManifest, ...(manifest.systemdUnit ? [manifest.systemdUnit] : [])];
      const read = await readBundleFiles(bundleFile, names);
      files = { manifest: read.get(manifest.processManifest)!, unit: manifest.systemdUnit ? read.get(manifest.systemdUnit)! : null };
      templates.set(row.fileSha256, files);
    }
    return {
      id: row.id,
      name: row.name,
      version: row.version,
      sha256: row.fileSha256,
      sizeBytes: row.size,
      file: bundleFile,
      architectures: architecturesOf(manifest),
      manifestTemplate: files.manifest,
      systemdUnit: files.unit,
    };
  }

  function verifyCopy(bundle: ResolvedBundle): Promise<void> {
    const stat = fs.statSync(bundle.file, { throwIfNoEntry: false });
    const id = stat ? `${bundle.file}:${stat.ino}:${stat.size}:${stat.mtimeMs}` : bundle.file;
    let check = verified.get(id);
    if (!check) {
      check = (async () => {
        if (!stat || stat.size !== bundle.sizeBytes) throw importedCopyWrongSizeError(bundle, stat ? stat.size : null);
        const actual = await localPrefixSha256(bundle.file, stat.size);
        if (actual !== bundle.sha256) throw importedCopyDamagedError(bundle, actual);
      })();
      // A refusal is not remembered: the operator may restore the copy and apply again.
      check.catch(() => verified.delete(id));
      verified.set(id, check);
    }
    return check;
  }

  return { resolve, verifyCopy };
}
