import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { ApiError, type ApiClient, type BundleVerification } from '../../contract';
import { bundleKeyUnknownError } from '../bundles/bundle-errors';
import { buildBundle, checkNodeBinaries, checkVersions } from '../bundles/build-bundle';
import { BUNDLE_EXTENSION, type Architecture } from '../bundles/bundle-manifest';
import { buildRuntimeInto, checkoutSources, findCheckout } from '../bundles/checkout-sources';
import { generateSigningKey, loadSigningKey } from '../bundles/signing-key';
import { compatibleRange, parseVersion } from '../bundles/version-range';
import { EXIT } from './exit-codes';
import { formatBytes, formatTable } from './format-text';

export const BUNDLE_COMMANDS = ['keygen', 'build', 'verify', 'import', 'list', 'keys'];

export interface BundleCommandContext {
  command: string;
  args: string[];
  values: Record<string, string | boolean | string[] | undefined>;
  json: boolean;
  print(text: string, value: unknown): void;
  /** Progress lines for people, on stderr. */
  progress(text: string): void;
  /** The contract's client to the backend (store and trust store), started on first use by the commands that need it. */
  api(): Promise<ApiClient>;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export async function runBundleCommand(ctx: BundleCommandContext): Promise<number> {
  switch (ctx.command) {
    case 'keygen':
      return keygen(ctx);
    case 'build':
      return build(ctx);
    case 'verify':
      return verify(ctx);
    case 'import':
      return importBundle(ctx);
    case 'list':
      return list(ctx);
    default:
      return keys(ctx);
  }
}

function keygen(ctx: BundleCommandContext): number {
  const [file] = ctx.args;
  if (!file || ctx.args.length !== 1)
    throw new ApiError(
      'BAD_PARAMS',
      '`bundle keygen` needs the file to write the new key to.',
      'Example: sutazai bundle keygen ~/.config/sutazai/release-key.pem',
    );
  const key = generateSigningKey(file);
  ctx.print(
    [
      `wrote a new Ed25519 signing key to ${file} (mode 0600)`,
      `fingerprint ${key.fingerprint}`,
      'Keep the file secret and backed up. Operators compare this fingerprint when they first import a bundle you signed.',
    ].join('\n'),
    { file: path.resolve(file), fingerprint: key.fingerprint },
  );
  return EXIT.OK;
}

async function build(ctx: BundleCommandContext): Promise<number> {
  const keyFile = str(ctx.values.key);
  if (!keyFile)
    throw new ApiError(
      'BAD_PARAMS',
      '`bundle build` needs --key FILE, the signing key.',
      'Create one with `sutazai bundle keygen FILE`, or use `npm run bundle`, which makes a development key.',
    );
  if (ctx.args.length > 0)
    throw new ApiError(
      'BAD_PARAMS',
      `\`bundle build\` takes no arguments (got "${ctx.args.join(' ')}").`,
      'Name the output with --out FILE.',
    );
  const key = loadSigningKey(keyFile);
  if (key.readableByOthers) ctx.progress(`WARNING: ${keyFile} can be read by other users; chmod 600 it.`);
  ctx.progress(`signing key ${key.fingerprint} (${keyFile})`);

  const checkout = findCheckout();
  const version = str(ctx.values.version) ?? checkout.version;
  const ours = parseVersion(checkout.version);
  const controlCenterRange = str(ctx.values['control-center']) ?? (ours ? compatibleRange(ours) : '*');
  // Everything the operator typed is checked before the runtime build, which takes a while.
  checkVersions({ version, runtimeVersion: checkout.version, controlCenterRange });
  const nodeBinaries = defaultNodeBinaries(ctx.values);
  for (const [arch, binary] of checkNodeBinaries(nodeBinaries)) ctx.progress(`node ${arch}: ${binary}`);

  let runtimeDir = str(ctx.values['runtime-dir']);
  let scratch: string | null = null;
  try {
    if (!runtimeDir) {
      scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-bundle-runtime-'));
      runtimeDir = scratch;
      await buildRuntimeInto(checkout, scratch, ctx.progress);
    } else {
      ctx.progress(`runtime from ${runtimeDir}`);
    }
    const built = await buildBundle({
      out: str(ctx.values.out) ?? `sutazai-${version}${BUNDLE_EXTENSION}`,
      key,
      keyLabel: str(ctx.values['key-label']) ?? path.basename(keyFile).replace(/\.pem$/, ''),
      sources: checkoutSources(checkout, runtimeDir, nodeBinaries),
      version,
      runtimeVersion: checkout.version,
      controlCenterRange,
      onProgress: ctx.progress,
    });
    const arches = Object.keys(built.manifest.artifacts).join(', ');
    ctx.print(
      [
        `built ${built.file}`,
        `  ${built.manifest.name} ${built.manifest.version} for ${arches}, ${built.fileCount} files, ${formatBytes(built.sizeBytes)}`,
        `  needs a control center ${built.manifest.compatibility.controlCenter}; runtime ${built.manifest.compatibility.runtime}`,
        `  sha256 ${built.sha256}`,
        `  signed by ${built.fingerprint}`,
      ].join('\n'),
      {
        file: built.file,
        sha256: built.sha256,
        sizeBytes: built.sizeBytes,
        fileCount: built.fileCount,
        fingerprint: built.fingerprint,
        manifest: built.manifest,
      },
    );
    return EXIT.OK;
  } finally {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** --node-x64 / --node-arm64, and the running Node for this machine's own architecture. */
function defaultNodeBinaries(values: BundleCommandContext['values']): Partial<Record<Architecture, string>> {
  const binaries: Partial<Record<Architecture, string>> = {};
  const own =
    process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64') ? (`linux-${process.arch}` as Architecture) : null;
  const x64 = str(values['node-x64']) ?? (own === 'linux-x64' ? process.execPath : undefined);
  const arm64 = str(values['node-arm64']) ?? (own === 'linux-arm64' ? process.execPath : undefined);
  if (x64) binaries['linux-x64'] = x64;
  if (arm64) binaries['linux-arm64'] = arm64;
  return binaries;
}

function bundleFileArg(ctx: BundleCommandContext): string {
  const [file] = ctx.args;
  if (!file || ctx.args.length !== 1)
    throw new ApiError(
      'BAD_PARAMS',
      `\`bundle ${ctx.command}\` needs one bundle file.`,
      `Example: sutazai bundle ${ctx.command} sutazai-0.1.0${BUNDLE_EXTENSION}`,
    );
  return file;
}

function describeVerification(v: BundleVerification): string {
  return [
    `${v.name} ${v.version}, built ${v.createdAt}`,
    `  file         ${v.path} (${formatBytes(v.sizeBytes)}, ${v.fileCount} files)`,
    `  sha256       ${v.sha256}`,
    `  components   ${Object.entries(v.components)
      .map(([name, c]) => `${name} ${c.version}`)
      .join(', ')}`,
    `  architecture ${v.architectures.join(', ')}`,
    `  profiles     ${v.profiles.join(', ')}`,
    `  needs        control center ${v.compatibility.controlCenter}; carries runtime ${v.compatibility.runtime}`,
    `  signed by    ${v.signer.fingerprint} (${v.signer.label || 'no label'})${v.signer.trusted ? `, trusted since ${new Date(v.signer.trustedAt!).toISOString()}` : ''}`,
  ].join('\n');
}

async function verify(ctx: BundleCommandContext): Promise<number> {
  const file = bundleFileArg(ctx);
  const api = await ctx.api();
  const result = await api.call('bundles.verify', { path: file });
  const confirmed = str(ctx.values['trust-key']);
  if (!result.signer.trusted && confirmed !== result.signer.fingerprint) {
    ctx.progress(describeVerification(result));
    throw bundleKeyUnknownError(result.path, { fingerprint: result.signer.fingerprint, keyLabel: result.signer.label }, confirmed);
  }
  const note = result.signer.trusted ? '' : '\n  (its key matches the --trust-key you gave; it is not stored as trusted)';
  ctx.print(`${describeVerification(result)}${note}\nOK: every checksum, the signature and the version compatibility check out.`, result);
  return EXIT.OK;
}

async function importBundle(ctx: BundleCommandContext): Promise<number> {
  const file = bundleFileArg(ctx);
  const api = await ctx.api();
  let trustKey = str(ctx.values['trust-key']);
  // On a terminal, show an unknown signer and ask, as ssh does for a new host key.
  if (trustKey === undefined && process.stdin.isTTY && !ctx.json) {
    const preview = await api.call('bundles.verify', { path: file });
    if (!preview.signer.trusted) {
      ctx.progress(describeVerification(preview));
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      const answer = (
        await rl.question(
          `The bundle is signed by ${preview.signer.fingerprint}, which you do not trust yet. Compare it with the fingerprint its builder gave you. Trust this key? [y/N] `,
        )
      )
        .trim()
        .toLowerCase();
      rl.close();
      if (answer === 'y' || answer === 'yes') trustKey = preview.signer.fingerprint;
    }
  }
  const result = await api.call('bundles.import', { path: file, ...(trustKey === undefined ? {} : { trustKey }) });
  const b = result.bundle;
  const lines = result.alreadyImported
    ? [`${b.name} ${b.version} (sha256 ${b.sha256}) was imported already (id ${b.id}); nothing changed.`]
    : [`imported ${b.name} ${b.version} (id ${b.id}) into ${b.path}`];
  if (result.keyTrusted) lines.push(`trusted signing key ${b.signer.fingerprint} (${b.signer.label || 'no label'}) from now on`);
  ctx.print(lines.join('\n'), result);
  return EXIT.OK;
}

async function list(ctx: BundleCommandContext): Promise<number> {
  const bundles = await (await ctx.api()).call('bundles.list', {});
  const table = formatTable(
    ['ID', 'NAME', 'VERSION', 'ARCH', 'SIZE', 'SIGNED BY', 'IMPORTED', 'SHA256'],
    bundles.map((b) => [
      String(b.id),
      b.name,
      b.version,
      b.architectures.join(','),
      formatBytes(b.sizeBytes),
      b.signer.label || b.signer.fingerprint,
      new Date(b.importedAt).toISOString(),
      b.sha256.slice(0, 16),
    ]),
  );
  ctx.print(bundles.length ? table : 'no bundles imported yet; import one with `sutazai bundle import FILE`', bundles);
  return EXIT.OK;
}

async function keys(ctx: BundleCommandContext): Promise<number> {
  const trusted = await (await ctx.api()).call('bundles.trustedKeys', {});
  const table = formatTable(
    ['FINGERPRINT', 'LABEL', 'TRUSTED', 'BY'],
    trusted.map((k) => [k.fingerprint, k.label, new Date(k.trustedAt).toISOString(), k.trustSource]),
  );
  ctx.print(trusted.length ? table : 'no bundle signing keys trusted yet; the first import of a bundle asks', trusted);
  return EXIT.OK;
}
