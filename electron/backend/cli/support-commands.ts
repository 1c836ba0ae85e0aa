import {
  ApiError,
  DEFAULT_LOG_BYTES_PER_PROCESS,
  type ApiClient,
  type SupportPreview,
  type SupportRedactionOptions,
  type SupportRule,
  visibleText,
} from '../../contract';
import { analyzeSupportFile } from '../bundles/support-bundles/support-service';
import { EXIT } from './exit-codes';
import { usage } from './fleet-commands';
import { formatTable } from './format-text';

export const SUPPORT_COMMANDS = ['bundle', 'analyze'];

export interface SupportCommandContext {
  command: string;
  args: string[];
  values: Record<string, string | boolean | string[] | undefined>;
  print(text: string, value: unknown): void;
  api(): Promise<ApiClient>;
}

/**
 * `sutazai support bundle|analyze` (issue 15, item 4): collect an install's or a host's
 * support bundle, list every redaction (`--preview` writes nothing: review, add `--rule`s,
 * run again), write it; analyze a bundle from any site, offline, with no data directory.
 */
export async function runSupportCommand(ctx: SupportCommandContext): Promise<number> {
  return ctx.command === 'analyze' ? analyze(ctx) : bundle(ctx);
}

async function analyze(ctx: SupportCommandContext): Promise<number> {
  if (ctx.args.length !== 1) throw usage('`support analyze` takes the bundle file.', 'sutazai support analyze site-support.tar');
  // No backend: the receiving side has no site to reach and may have no data directory.
  const result = await analyzeSupportFile(ctx.args[0]!);
  // Every value comes from the file, which anyone may have written: each stays on its line
  // (a newline in it would print a finding or a remedy of its own), controls escaped.
  const v = visibleText;
  const lines = [
    `Support bundle of ${v(result.targetName)}, collected ${new Date(result.collectedAtMs).toISOString()}.`,
    `Versions: ${Object.entries(result.versions)
      .map(([k, value]) => `${v(k)} ${v(value)}`)
      .join(', ')}`,
    result.findings.length === 0 ? 'No findings.' : `${result.findings.length} ${result.findings.length === 1 ? 'finding' : 'findings'}:`,
  ];
  for (const finding of result.findings) {
    lines.push('', `${finding.severity.toUpperCase()}  ${v(finding.summary)}`);
    for (const detail of finding.details) lines.push(`    | ${v(detail)}`);
    lines.push(`  Remedy: ${v(finding.remedy)}`);
  }
  ctx.print(lines.join('\n'), result);
  return EXIT.OK;
}

async function bundle(ctx: SupportCommandContext): Promise<number> {
  if (ctx.args.length > 0) throw usage(`\`support bundle\` takes options only (got "${ctx.args.join(' ')}").`, EXAMPLE);
  const { install, host, out, preview } = ctx.values;
  if ((typeof install === 'string') === (typeof host === 'string')) throw usage('Name either --install NAME or --host HOST.', EXAMPLE);
  if (preview !== true && typeof out !== 'string') throw usage('Say where the bundle goes with --out FILE, or add --preview.', EXAMPLE);
  const redaction: SupportRedactionOptions = {
    addresses: ctx.values['redact-addresses'] === true,
    hostNames: ctx.values['redact-host-names'] === true,
    rules: rulesOf(ctx.values.rule),
  };
  const api = await ctx.api();
  const target = typeof install === 'string' ? { install } : { hostId: (await api.call('hosts.find', { host: host as string })).host.id };
  const collected = await api.call('support.collect', { target, logBytesPerProcess: logBytesOf(ctx.values['log-mb']) });
  // The operator's options and rules, over the same collection.
  const reviewed = await api.call('support.preview', { previewId: collected.previewId, redaction });
  if (preview === true) {
    ctx.print(
      describePreview(reviewed, 'Nothing written: add --rule NAME=TEXT (or NAME=/REGEX/) for anything left, then run it with --out FILE.'),
      reviewed,
    );
    return EXIT.OK;
  }
  const saved = await api.call('support.save', { previewId: collected.previewId, redaction, path: out as string });
  ctx.print(
    describePreview(
      reviewed,
      `Written: ${saved.path} (${saved.bytes} bytes, ${saved.files} files, ${saved.redactions} redactions), SHA-256 ${saved.sha256}.`,
    ),
    { preview: reviewed, saved },
  );
  return EXIT.OK;
}

const EXAMPLE = 'sutazai support bundle --install prod --out prod-support.tar [--preview]';

function describePreview(preview: SupportPreview, last: string): string {
  const rows = preview.redactions.map((r) => [`${r.file}:${r.line}`, r.rule, r.masked]);
  const counts = Object.entries(preview.countsByRule)
    .map(([rule, n]) => `${rule} ${n}`)
    .join(', ');
  return [
    `Support bundle of ${preview.targetName}: ${preview.files.length} files.`,
    ...preview.gaps.map((gap) => `Not collected: ${gap}`),
    rows.length === 0 ? 'No redactions.' : `Redactions (${counts}):`,
    ...(rows.length === 0 ? [] : [formatTable(['WHERE', 'RULE', 'REPLACED'], rows)]),
    ...(preview.omittedRedactions > 0 ? [`... and ${preview.omittedRedactions} more.`] : []),
    last,
  ].join('\n');
}

/** `--rule NAME=TEXT` replaces TEXT; `--rule NAME=/REGEX/` (`/REGEX/i` ignoring case) replaces each line it matches. */
function rulesOf(value: string | boolean | string[] | undefined): SupportRule[] {
  const list = Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
  return list.map((text) => {
    const eq = text.indexOf('=');
    if (eq < 1)
      throw usage(
        `--rule "${text}" is not NAME=TEXT or NAME=/REGEX/.`,
        'sutazai support bundle ... --rule customer=ACME --rule serial=/SN-[0-9]+/',
      );
    const name = text.slice(0, eq);
    const pattern = text.slice(eq + 1);
    const regex = /^\/(.+)\/(i?)$/.exec(pattern);
    return regex
      ? { name, pattern: regex[1]!, regex: true, ignoreCase: regex[2] === 'i' }
      : { name, pattern, regex: false, ignoreCase: false };
  });
}

function logBytesOf(value: string | boolean | string[] | undefined): number {
  if (typeof value !== 'string') return DEFAULT_LOG_BYTES_PER_PROCESS;
  const mb = Number(value);
  if (!Number.isFinite(mb) || mb <= 0 || mb > 64)
    throw new ApiError(
      'BAD_PARAMS',
      `--log-mb ${value} is not a number of MiB from 0.001 to 64.`,
      'Pass --log-mb 1 for the last MiB of each log.',
    );
  return Math.max(1024, Math.round(mb * 1024 * 1024));
}
