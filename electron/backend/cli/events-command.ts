import { MAX_EVENTS_PAGE, type ApiClient, type ApiError, type FleetEvent } from '../../contract';
import { EXIT } from './exit-codes';
import { parseSince, usage, type FleetCommandContext } from './fleet-commands';

/**
 * `sutazai events [-f] [--since T] [--host H] [--json]` (issue 12, item 7): the fleet's
 * events oldest first, from T (a time, or a span back from now) or the last page; with -f,
 * then each new one as it is recorded, until Ctrl-C (or until the backend ends the feed: the
 * --as operator disabled, removed or refused it since, which exits as that refusal would).
 * Through the contract's client, as a window reads them: events.list, then the
 * events.appended event.
 */
/** As the fleet commands' context: `line` prints one event while following, `interrupted` ends following. */
export interface EventsCommandContext extends Omit<FleetCommandContext, 'command'> {
  now?: () => number;
}

/** The most events one `--since` prints; a longer span is narrowed with --host or a later --since. */
export const MAX_EVENTS_PRINTED = 10_000;

/** One event as a line (and its crash lines, error and remedy below it, indented). */
export function eventText(event: FleetEvent): string {
  const where = [event.hostName ?? '-', event.instance ?? event.process ?? '-'].join(' ');
  const by = event.actor === null ? '' : ` (by ${event.actor})`;
  const lines = [`${new Date(event.atMs).toISOString()}  ${where}  ${event.kind}  ${event.message}${by}`];
  if (event.error !== null) lines.push(`    error ${event.error.code}: ${event.error.message}`, `    remedy: ${event.error.remedy}`);
  for (const line of event.lastLines) lines.push(`    | ${line}`);
  return lines.join('\n');
}

export async function runEventsCommand(ctx: EventsCommandContext): Promise<number> {
  if (ctx.args.length > 0) throw usage(`"events" takes no arguments (got "${ctx.args.join(' ')}").`, 'sutazai events -f --since 10m');
  const now = ctx.now ?? Date.now;
  const since = typeof ctx.values.since === 'string' ? parseSince(ctx.values.since, now()) : undefined;
  const api = await ctx.api();
  const host = typeof ctx.values.host === 'string' ? ctx.values.host : undefined;
  const hostId = host === undefined ? undefined : (await api.call('hosts.find', { host })).host.id;
  const filter = hostId === undefined ? {} : { hostId };

  // Following subscribes before it reads, so nothing recorded in between is missed; what
  // arrives while reading waits, and what the read already printed is not printed again.
  const follow = ctx.values.follow === true;
  let printedUpTo = 0;
  let reading = true;
  const waiting: FleetEvent[] = [];
  const show = (event: FleetEvent): void => {
    if (event.id <= printedUpTo) return;
    printedUpTo = event.id;
    ctx.line(eventText(event), event);
  };
  let endedWith: (error: ApiError) => void = () => {};
  const ended = new Promise<ApiError>((resolve) => (endedWith = resolve));
  const unsubscribe = follow
    ? await api.subscribe('events.appended', filter, (event) => (reading ? waiting.push(event) : show(event)), endedWith)
    : undefined;
  try {
    const events = await readEvents(api, { ...filter, ...(since === undefined ? {} : { fromMs: since }) }, since !== undefined);
    if (follow) {
      for (const event of events) show(event);
      reading = false;
      for (const event of waiting.sort((a, b) => a.id - b.id)) show(event);
      const why = await Promise.race([ended, ctx.interrupted.then(() => null)]);
      if (why !== null) throw why;
      return EXIT.OK;
    }
    ctx.print(events.map(eventText).join('\n') || '(no events)', events);
    return EXIT.OK;
  } finally {
    await unsubscribe?.().catch(() => undefined);
  }
}

/** Oldest first: every event from the time (up to MAX_EVENTS_PRINTED), or the newest page. */
async function readEvents(api: ApiClient, params: { hostId?: number; fromMs?: number }, all: boolean): Promise<FleetEvent[]> {
  const newestFirst: FleetEvent[] = [];
  let page = await api.call('events.list', { ...params, limit: MAX_EVENTS_PAGE });
  newestFirst.push(...page.events);
  while (all && page.next !== null && newestFirst.length < MAX_EVENTS_PRINTED) {
    page = await api.call('events.list', { ...params, limit: MAX_EVENTS_PAGE, after: page.next });
    newestFirst.push(...page.events);
  }
  return newestFirst.slice(0, all ? MAX_EVENTS_PRINTED : MAX_EVENTS_PAGE).reverse();
}
