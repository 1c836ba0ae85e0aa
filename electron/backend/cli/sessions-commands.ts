import { ApiError, visibleText, type ApiClient, type WebSession } from '../../contract';
import { EXIT } from './exit-codes';
import { formatTable } from './format-text';

export const SESSIONS_COMMANDS = ['list', 'revoke'];

export interface SessionsCommandContext {
  command: string;
  args: string[];
  values: Record<string, string | boolean | string[] | undefined>;
  print(text: string, value: unknown): void;
  api(): Promise<ApiClient>;
}

/**
 * `sutazai sessions list | revoke ID | revoke --operator NAME` (issue 14, item 5): the browser
 * sign-ins of web mode for a team, through the API (sessions.list, sessions.revoke), so the
 * same checks and audit entries apply as on the Operators page: an admin sees and ends
 * everyone's, another operator their own.
 */
export async function runSessionsCommand(ctx: SessionsCommandContext): Promise<number> {
  const operator = typeof ctx.values.operator === 'string' ? ctx.values.operator : undefined;
  const wanted = ctx.command === 'list' || operator !== undefined ? 0 : 1;
  if (ctx.args.length !== wanted)
    throw new ApiError(
      'BAD_PARAMS',
      ctx.command === 'list'
        ? '`sessions list` takes no arguments.'
        : '`sessions revoke` takes one session id (from `sessions list`), or --operator NAME for all of theirs.',
      'Run `sutazai help` for the sessions commands.',
    );
  const api = await ctx.api();
  if (ctx.command === 'list') {
    const sessions = await listSessions(api);
    ctx.print(sessions.length === 0 ? 'No browser sessions are signed in.' : formatSessions(sessions), sessions);
    return EXIT.OK;
  }
  if (operator !== undefined) {
    const theirs = (await listSessions(api)).filter((session) => session.operator.toLowerCase() === operator.toLowerCase());
    let revoked = 0;
    for (const session of theirs) {
      await api.call('sessions.revoke', { id: session.id });
      revoked += 1;
    }
    ctx.print(`${revoked} session${revoked === 1 ? '' : 's'} of ${operator} ended.`, { operator, revoked });
    return EXIT.OK;
  }
  const id = Number(ctx.args[0]);
  if (!Number.isSafeInteger(id) || id <= 0)
    throw new ApiError(
      'BAD_PARAMS',
      `"${visibleText(ctx.args[0]!)}" is not a session id.`,
      'Give the ID column of `sutazai sessions list`.',
    );
  // An ended or unknown session is WEB_SESSION_ENDED, another's for a non-admin ACCESS_DENIED: both thrown with their remedy.
  await api.call('sessions.revoke', { id });
  ctx.print(`Session ${id} ended.`, { id, revoked: 1 });
  return EXIT.OK;
}

/** Everyone's for an admin; an operator who may not see everyone's gets their own. */
async function listSessions(api: ApiClient): Promise<WebSession[]> {
  try {
    return await api.call('sessions.list', { all: true });
  } catch (error) {
    if (error instanceof ApiError && error.code === 'ACCESS_DENIED') return api.call('sessions.list', { all: false });
    throw error;
  }
}

function formatSessions(sessions: readonly WebSession[]): string {
  const at = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
  return formatTable(
    ['ID', 'OPERATOR', 'ADDRESS', 'SIGNED IN', 'LAST SEEN', 'ENDS', 'BROWSER'],
    // The address and browser come from the request: one line each, every control character shown as an escape.
    sessions.map((s) => [
      String(s.id),
      s.operator,
      visibleText(s.address),
      at(s.createdAt),
      at(s.lastSeenAt),
      at(Math.min(s.idleExpiresAt, s.expiresAt)),
      visibleText(s.userAgent).slice(0, 60),
    ]),
  );
}
