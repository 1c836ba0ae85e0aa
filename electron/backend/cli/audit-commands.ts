import fs from 'node:fs';
import {
  ACTIONS,
  ApiError,
  AuditAnchorSchema,
  ErrorCodeSchema,
  MAX_AUDIT_PAGE,
  type Action,
  type ApiClient,
  type AuditEntry,
  type AuditListParams,
  type MethodParams,
} from '../../contract';
import { EXIT } from './exit-codes';
import { parseSince, usage } from './fleet-commands';
import { formatTable } from './format-text';

export const AUDIT_COMMANDS = ['verify', 'list', 'export', 'accept-reset'];

export interface AuditCommandContext {
  command: string;
  args: string[];
  values: Record<string, string | boolean | string[] | undefined>;
  json: boolean;
  print(text: string, value: unknown): void;
  /** Text for stdout as it is (the JSON lines of an export without --out). */
  out(text: string): void;
  api(): Promise<ApiClient>;
  now?: () => number;
}

/** The most entries one `audit list` prints; export has no limit. */
const MAX_LISTED = 1000;

/**
 * `sutazai audit verify|list|export` (issue 14, item 6): check the audit log's hash chain
 * (exit 14 and the first broken entry when it is not as appended), read it with filters,
 * or write it whole as JSON lines, oldest first, for an auditor's own tools.
 */
export async function runAuditCommand(ctx: AuditCommandContext): Promise<number> {
  if (ctx.args.length > 0)
    throw usage(`\`audit ${ctx.command}\` takes no arguments (got "${ctx.args.join(' ')}").`, 'sutazai audit list --action control');
  switch (ctx.command) {
    case 'verify':
      return verify(ctx);
    case 'list':
      return list(ctx);
    case 'accept-reset':
      return acceptReset(ctx);
    default:
      return exportLines(ctx);
  }
}

async function verify(ctx: AuditCommandContext): Promise<number> {
  const anchor = typeof ctx.values.anchor === 'string' ? parseAnchor(ctx.values.anchor) : undefined;
  const host = typeof ctx.values.host === 'string' ? ctx.values.host : undefined;
  const install = typeof ctx.values.install === 'string' ? ctx.values.install : undefined;
  if (host !== undefined || install !== undefined) return verifyHosts(ctx, { host, install, anchor });
  const result = await (await ctx.api()).call('audit.verify', anchor === undefined ? {} : { anchor });
  if (result.broken !== null) {
    ctx.print(
      [
        `The audit log is NOT as appended: ${result.broken.kind} at entry ${result.broken.seq}.`,
        result.broken.message,
        'Restore the data directory from a backup you trust, and find out who could write its files.',
      ].join('\n'),
      result,
    );
    return EXIT.AUDIT_BROKEN;
  }
  const head = result.head === null ? 'The audit log is empty.' : `Newest entry: ${result.head.seq} ${result.head.hash}`;
  ctx.print(
    [
      `The audit log is as appended: ${result.entries} ${result.entries === 1 ? 'entry' : 'entries'}, each chained to the one before.`,
      head,
      ...(result.head === null
        ? []
        : [
            `Keep that line: \`sutazai audit verify --anchor ${result.head.seq}:${result.head.hash}\` later also proves nothing up to it was cut off.`,
          ]),
    ].join('\n'),
    result,
  );
  return EXIT.OK;
}

/**
 * `audit verify --host H | --install I`: each runtime's own audit log, read from its host over
 * SSH and verified here with the runtime's verifier; exit 14 when any is not as appended. Its
 * messages name seqs, line numbers and hashes only, and print() escapes every control character.
 */
async function verifyHosts(
  ctx: AuditCommandContext,
  target: { host: string | undefined; install: string | undefined; anchor: { seq: number; hash: string } | undefined },
): Promise<number> {
  if (target.host !== undefined && target.install !== undefined)
    throw usage('Give --host or --install, not both.', 'sutazai audit verify --install NAME');
  if (target.anchor !== undefined && target.host === undefined)
    throw usage("--anchor is an entry of one host's log: give it with --host.", 'sutazai audit verify --host NAME --anchor SEQ:HASH');
  const params = {
    ...(target.host !== undefined ? { host: target.host } : {}),
    ...(target.install !== undefined ? { install: target.install } : {}),
    ...(target.anchor !== undefined ? { anchor: target.anchor } : {}),
  };
  const result = await (await ctx.api()).call('audit.verifyHost', params);
  const lines = result.hosts.map((log) =>
    log.rememberedError !== null
      ? [
          // Whole by itself, but without the entry found intact before: cut off, or another runtime's log.
          `${log.host}: the runtime's audit log (${log.file}) is NOT as verified before: ${log.rememberedError.code}.`,
          `  ${log.rememberedError.message}`,
          ...(log.head === null ? [] : [`  Newest entry now: ${log.head.seq} ${log.head.hash}`]),
          `  remedy: ${log.rememberedError.cliRemedy ?? log.rememberedError.remedy}`,
        ].join('\n')
      : log.broken !== null
        ? [
            log.kept?.anchorDropped === true
              ? `${log.host}: the runtime's audit log (${log.file}) could NOT be verified: your anchor, entry ${log.broken.seq}, is older than the oldest entry kept.`
              : `${log.host}: the runtime's audit log (${log.file}) is NOT as appended: ${log.broken.kind} at entry ${log.broken.seq}.`,
            `  ${log.broken.message}`,
            "  Find out who could write the file as root or as the runtime's user on that host.",
          ].join('\n')
        : [
            `${log.host}: the runtime's audit log (${log.file}${log.segments > 1 ? ` and ${log.segments - 1} sealed ${log.segments === 2 ? 'segment' : 'segments'}` : ''}) is as appended: ${log.entries} ${log.entries === 1 ? 'entry' : 'entries'}, each chained to the one before.`,
            ...(log.kept === null ? [] : [`  ${log.kept.message}`]),
            ...(log.remembered === null
              ? [
                  '  First verify of this runtime here: its newest entry is remembered, and later verifies check nothing up to it was cut off.',
                ]
              : [
                  `  It still holds entry ${log.remembered.seq}, found intact ${new Date(log.remembered.atMs).toISOString()} (${log.remembered.by})${log.remembered.standing === 'dropped' ? ', since dropped by the keep cap as recorded' : ''}; the newest entry is remembered in its place.`,
                ]),
            ...(log.head === null
              ? []
              : [
                  `  Newest entry: ${log.head.seq} ${log.head.hash}`,
                  `  Keep that line: \`sutazai audit verify --host ${log.host} --anchor ${log.head.seq}:${log.head.hash}\` later also proves nothing up to it was cut off.`,
                ]),
          ].join('\n'),
  );
  // Hosts whose log could not be read are named with why and what to do; the others were verified all the same.
  for (const { host, error } of result.unread)
    lines.push(`${host}: the runtime's audit log could not be read: ${error.code}: ${error.message}\n  remedy: ${error.remedy}`);
  ctx.print(lines.length === 0 ? 'The install has no hosts.' : lines.join('\n'), result);
  if (result.hosts.some((log) => log.broken !== null)) return EXIT.AUDIT_BROKEN;
  return result.unread.length > 0 ? EXIT.FAILURE : EXIT.OK;
}

/**
 * `audit accept-reset --host H --anchor SEQ:HASH`: an admin takes a host's runtime log as it is
 * now, after a deliberate reset (a reinstalled runtime): the entry named (the newest one the failed
 * verify printed) becomes the head remembered for the host. Audited; a verify never does it.
 */
async function acceptReset(ctx: AuditCommandContext): Promise<number> {
  const host = typeof ctx.values.host === 'string' ? ctx.values.host : undefined;
  const anchor = typeof ctx.values.anchor === 'string' ? parseAnchor(ctx.values.anchor) : undefined;
  if (host === undefined || anchor === undefined)
    throw usage(
      '`audit accept-reset` takes --host NAME and --anchor SEQ:HASH (the newest entry the failed verify printed).',
      'sutazai audit accept-reset --host db-2 --anchor 3:3f5a…',
    );
  const result = await (await ctx.api()).call('audit.acceptHostReset', { host, head: anchor });
  const before =
    result.previous === null
      ? 'Nothing was remembered of it before.'
      : `Remembered before: entry ${result.previous.seq} ${result.previous.hash} of install ${result.previous.install}'s runtime (${result.previous.stateDir}), found intact ${new Date(result.previous.atMs).toISOString()} (${result.previous.by}); the log read now: ${result.previous.standing}.`;
  ctx.print(
    [
      `${result.host}: the runtime's audit log is taken as it is now; entry ${result.head.seq} ${result.head.hash} is its remembered head.`,
      before,
      'Recorded in the audit log. Later verifies check the log against this entry.',
    ].join('\n'),
    result,
  );
  return EXIT.OK;
}

async function list(ctx: AuditCommandContext): Promise<number> {
  const filters = filtersOf(ctx);
  const limit = typeof ctx.values.limit === 'string' ? parseLimit(ctx.values.limit) : 50;
  const api = await ctx.api();
  const newestFirst: AuditEntry[] = [];
  let after: number | undefined;
  do {
    const page = await api.call('audit.list', {
      ...filters,
      order: 'newest',
      limit: Math.min(MAX_AUDIT_PAGE, limit - newestFirst.length),
      ...(after !== undefined ? { after } : {}),
    });
    newestFirst.push(...page.entries);
    after = page.next ?? undefined;
  } while (after !== undefined && newestFirst.length < limit);
  const entries = newestFirst.reverse();
  ctx.print(entries.length === 0 ? '(no audit entries)' : formatEntries(entries), entries);
  return EXIT.OK;
}

/** Every entry (the filters narrow it), oldest first, one JSON object a line: to --out FILE (created 0600) or stdout. */
async function exportLines(ctx: AuditCommandContext): Promise<number> {
  const filters = filtersOf(ctx);
  const api = await ctx.api();
  const out = typeof ctx.values.out === 'string' ? ctx.values.out : undefined;
  const fd = out === undefined ? null : fs.openSync(out, 'w', 0o600);
  let count = 0;
  try {
    let after: number | undefined;
    do {
      const page = await api.call('audit.list', {
        ...filters,
        order: 'oldest',
        limit: MAX_AUDIT_PAGE,
        ...(after !== undefined ? { after } : {}),
      });
      const text = page.entries.map((entry) => JSON.stringify(entry)).join('\n');
      if (text !== '') {
        if (fd === null) ctx.out(text);
        else fs.writeSync(fd, `${text}\n`);
      }
      count += page.entries.length;
      after = page.next ?? undefined;
    } while (after !== undefined);
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
  if (out !== undefined)
    ctx.print(`${count} audit ${count === 1 ? 'entry' : 'entries'} written to ${out} (JSON lines, oldest first).`, { out, entries: count });
  return EXIT.OK;
}

type AuditFilters = Omit<MethodParams<'audit.list'>, 'order' | 'after' | 'limit'>;

function filtersOf(ctx: AuditCommandContext): AuditFilters {
  const filters: AuditFilters = {};
  const text = (name: string) => (typeof ctx.values[name] === 'string' ? (ctx.values[name] as string) : undefined);
  const who = text('who');
  if (who !== undefined) filters.who = who;
  const action = text('action');
  if (action !== undefined) {
    if (!(ACTIONS as readonly string[]).includes(action))
      throw usage(`--action "${action}" is not an action; the actions are ${ACTIONS.join(', ')}.`, 'sutazai audit list --action control');
    filters.action = action as Action;
  }
  const target = text('target');
  if (target !== undefined) filters.target = target;
  const outcome = text('outcome');
  if (outcome !== undefined) {
    if (outcome !== 'ok' && outcome !== 'error' && outcome !== 'refused' && !ErrorCodeSchema.safeParse(outcome).success)
      throw usage(
        `--outcome "${outcome}" is none of ok, error, refused or an error code (such as ACCESS_DENIED).`,
        'sutazai audit list --outcome error',
      );
    filters.outcome = outcome as AuditListParams['outcome'];
  }
  const since = text('since');
  if (since !== undefined) filters.fromMs = parseSince(since, (ctx.now ?? Date.now)());
  return filters;
}

function parseAnchor(text: string): { seq: number; hash: string } {
  const match = /^(\d{1,15}):([0-9a-f]{64})$/.exec(text);
  const anchor = match ? AuditAnchorSchema.safeParse({ seq: Number(match[1]), hash: match[2] }) : null;
  if (!anchor?.success)
    throw new ApiError(
      'BAD_PARAMS',
      `--anchor "${text}" is not an entry's SEQ:HASH (a number, a colon, 64 hex digits).`,
      'Give the "Newest entry" line an earlier `sutazai audit verify` printed, e.g. --anchor 42:3f5a…',
    );
  return anchor.data;
}

function parseLimit(text: string): number {
  if (!/^\d{1,6}$/.test(text) || Number(text) < 1 || Number(text) > MAX_LISTED)
    throw usage(`--limit takes a whole number from 1 to ${MAX_LISTED} (got "${text}").`, 'sutazai audit list --limit 200');
  return Number(text);
}

function formatEntries(entries: AuditEntry[]): string {
  return formatTable(
    ['SEQ', 'WHEN', 'WHO', 'FROM', 'ACTION', 'METHOD', 'TARGET', 'OUTCOME'],
    entries.map((entry) => [
      String(entry.seq),
      new Date(entry.atMs).toISOString(),
      entry.operator === null ? entry.actor : `${entry.operator} (${entry.actor})`,
      entry.peer,
      entry.action,
      entry.method,
      entry.target ?? '-',
      entry.outcome,
    ]),
  );
}
