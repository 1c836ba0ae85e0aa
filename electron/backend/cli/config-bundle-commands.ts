import { ApiError, type ApiClient, type ConfigReview } from '../../contract';
import { EXIT } from './exit-codes';
import { formatTable } from './format-text';
import { secretFromFile, secretsFromPromptOrStdin } from './read-secret-input';

/**
 * `sutazai config export|review|import|keys`: configuration bundles (`.sutazai-config`,
 * signed, secrets sealed to an export passphrase when asked) and plain YAML exports, and
 * their import after a review item by item. These need the store, unlike check/show/diff.
 */
export const CONFIG_BUNDLE_COMMANDS = ['export', 'review', 'import', 'keys'];

export interface ConfigBundleCommandContext {
  command: string;
  args: string[];
  values: Record<string, string | boolean | string[] | undefined>;
  print(text: string, value: unknown): void;
  api(): Promise<ApiClient>;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export async function runConfigBundleCommand(ctx: ConfigBundleCommandContext): Promise<number> {
  switch (ctx.command) {
    case 'export':
      return exportConfig(ctx);
    case 'review':
      return reviewConfig(ctx);
    case 'import':
      return importConfig(ctx);
    default:
      return keys(ctx);
  }
}

/** The export passphrase: from --export-passphrase-file, or typed (hidden) or piped in when --with-secrets asks for one. */
async function exportPassphrase(ctx: ConfigBundleCommandContext, needed: boolean): Promise<string | undefined> {
  const file = str(ctx.values['export-passphrase-file']);
  if (file) return secretFromFile(file, 'export passphrase');
  if (!needed) return undefined;
  return (await secretsFromPromptOrStdin(['export passphrase']))[0];
}

function oneFile(ctx: ConfigBundleCommandContext, example: string): string {
  const [file] = ctx.args;
  if (!file || ctx.args.length !== 1) {
    throw new ApiError('BAD_PARAMS', `\`config ${ctx.command}\` needs one file.`, `Example: ${example}`);
  }
  return file;
}

async function exportConfig(ctx: ConfigBundleCommandContext): Promise<number> {
  const out = str(ctx.values.out);
  if (!out || ctx.args.length > 0) {
    throw new ApiError(
      'BAD_PARAMS',
      '`config export` needs --out FILE (and takes no other arguments).',
      'Example: sutazai config export --out site.sutazai-config [--install prod] [--with-secrets] | --yaml --out site.yaml',
    );
  }
  const yaml = ctx.values.yaml === true;
  const withSecrets = ctx.values['with-secrets'] === true;
  if (yaml && withSecrets) {
    throw new ApiError(
      'BAD_PARAMS',
      'A YAML export never carries secrets.',
      'Leave out --with-secrets, or export a bundle (without --yaml).',
    );
  }
  const secretsPassphrase = withSecrets ? await exportPassphrase(ctx, true) : undefined;
  const install = str(ctx.values.install);
  const result = await (
    await ctx.api()
  ).call('configBundles.export', {
    path: out,
    format: yaml ? 'yaml' : 'bundle',
    ...(install ? { install } : {}),
    ...(secretsPassphrase ? { secretsPassphrase } : {}),
  });
  ctx.print(
    [
      `wrote ${result.path} (${result.format === 'yaml' ? 'YAML, unsigned, no secrets' : 'configuration bundle'})`,
      `${result.hosts} hosts, ${result.installs} installs, ${result.bundleKeys} bundle signing keys, ${result.siteFiles} alert rule and policy files${result.format === 'bundle' ? `, ${result.secrets} secrets sealed to the export passphrase` : ''}`,
      `sha256 ${result.sha256}`,
      ...(result.signedBy ? [`signed by this control center: ${result.signedBy}`] : []),
    ].join('\n'),
    result,
  );
  return EXIT.OK;
}

async function openChoice(ctx: ConfigBundleCommandContext): Promise<{ secretsPassphrase?: string; withoutSecrets?: boolean }> {
  if (ctx.values['without-secrets'] === true) return { withoutSecrets: true };
  const secretsPassphrase = await exportPassphrase(ctx, false);
  return secretsPassphrase ? { secretsPassphrase } : {};
}

async function reviewConfig(ctx: ConfigBundleCommandContext): Promise<number> {
  const file = oneFile(ctx, 'sutazai config review site.sutazai-config');
  const review = await (await ctx.api()).call('configBundles.review', { path: file, ...(await openChoice(ctx)) });
  ctx.print(formatReview(review), review);
  return EXIT.OK;
}

async function importConfig(ctx: ConfigBundleCommandContext): Promise<number> {
  const file = oneFile(ctx, 'sutazai config import site.sutazai-config [--item host:db-1]...');
  const chosen = (ctx.values.item as string[] | undefined) ?? [];
  const trustExporter = str(ctx.values['trust-exporter']);
  const api = await ctx.api();
  const choice = await openChoice(ctx);
  // --sha256 names the file an earlier review read; without it, this command reviews first and
  // prints that review, and the import applies exactly the file it read (the backend checks the hash).
  let sha256 = str(ctx.values.sha256);
  const reviewed: string[] = [];
  if (sha256 === undefined) {
    const review = await api.call('configBundles.review', { path: file, ...choice });
    sha256 = review.sha256;
    reviewed.push(formatReview(review), '');
  }
  const result = await api.call('configBundles.import', {
    path: file,
    items: chosen.length ? chosen : 'all',
    sha256,
    ...(trustExporter ? { trustExporter } : {}),
    ...choice,
  });
  const lines = [
    ...reviewed,
    ...(result.exporterTrusted && trustExporter ? [`trusted the exporter ${trustExporter}`] : []),
    result.applied.length
      ? `applied ${result.applied.length}: ${result.applied.join(', ')}`
      : 'applied nothing: the store already matches the chosen items',
    ...result.left.filter((l) => l.reason !== 'unchanged').map((l) => `left ${l.id}: ${l.reason}`),
    ...result.operatorsWithoutPassword.map(
      (name) =>
        `operator ${name} has no password here and cannot sign in until an admin sets one: sutazai operators set ${name} --reset-password`,
    ),
  ];
  ctx.print(lines.join('\n'), result);
  return EXIT.OK;
}

async function keys(ctx: ConfigBundleCommandContext): Promise<number> {
  if (ctx.args.length > 0)
    throw new ApiError('BAD_PARAMS', '`config keys` takes no arguments.', 'Run: sutazai config keys [--revoke SHA256:...]');
  const revoke = str(ctx.values.revoke);
  if (revoke !== undefined) {
    const revoked = await (await ctx.api()).call('configBundles.revokeExporter', { fingerprint: revoke });
    ctx.print(
      `no longer trusts the exporter ${revoked.revoked} ("${revoked.label}"): its bundles are untrusted until confirmed again by fingerprint`,
      revoked,
    );
    return EXIT.OK;
  }
  const result = await (await ctx.api()).call('configBundles.keys', {});
  const own = result.own
    ? `this control center signs exports as ${result.own.fingerprint}`
    : 'this control center has no signing key yet (made at its first bundle export)';
  const trusted = result.trusted.length
    ? formatTable(
        ['trusted exporter', 'label', 'trusted'],
        result.trusted.map((k) => [k.fingerprint, k.label, `${new Date(k.trustedAt).toISOString()} (${k.trustSource})`]),
      )
    : 'no other exporter is trusted';
  ctx.print(`${own}\n${trusted}`, result);
  return EXIT.OK;
}

/** The review as people read it: who signed, then one row per item, conflicts said loudly with their reason. */
export function formatReview(review: ConfigReview): string {
  const signer = review.exporter
    ? `signed by ${review.exporter.fingerprint} ("${review.exporter.label}")${review.exporter.own ? ', this control center' : review.exporter.trusted ? ', a trusted exporter' : ', NOT TRUSTED YET: compare the fingerprint with the exporting control center, then import with --trust-exporter'}`
    : 'a YAML export (unsigned)';
  const rows = review.items.map((item) => [
    item.status === 'conflict' ? 'CONFLICT' : item.status,
    item.id,
    item.changes.map((c) => `${c.field}: ${c.from === '' ? '' : `${c.from} -> `}${c.to}`).join('; '),
  ]);
  const reasons = review.items.filter((i) => i.reason !== null).map((i) => `${i.status === 'conflict' ? '!! ' : ''}${i.id}: ${i.reason}`);
  const sealed = !review.hasSecrets
    ? ''
    : review.secretsCompared
      ? '; carries sealed secrets (opened and compared)'
      : '; carries sealed secrets NOT COMPARED (give the export passphrase to compare them)';
  const notCompared = review.sealedNotCompared.map((s) => `sealed, not compared: ${s.id} ${s.secret}`);
  return [
    `${review.path}: ${signer}${sealed}`,
    `sha256 ${review.sha256} (import with --sha256 ${review.sha256} to apply exactly this file)`,
    formatTable(['status', 'item', 'changes'], rows),
    ...reasons,
    ...notCompared,
  ].join('\n');
}
