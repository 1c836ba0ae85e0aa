import { LINK_EVENT_KINDS, type EventParams, type FleetEvent, type MethodParams } from '../../../../electron/contract';

/** The kinds the timeline offers, in words; each choice is one or several of the contract's kinds. */
export const KIND_CHOICES = [
  { value: 'crashes', label: 'Crashes and crash-loops', kinds: ['process.exit', 'process.crash-loop', 'process.crash-loop-left'] },
  { value: 'states', label: 'Process state changes', kinds: ['process.state'] },
  { value: 'health', label: 'Health changes', kinds: ['process.health'] },
  { value: 'errors', label: 'Runtime errors', kinds: ['process.error'] },
  { value: 'manifest', label: 'Manifest and scale changes', kinds: ['manifest.updated'] },
  { value: 'links', label: 'Links up and down', kinds: [...LINK_EVENT_KINDS] },
  { value: 'actions', label: 'Operator actions', kinds: ['action.start', 'action.stop', 'action.restart', 'action.scale'] },
] as const;
export type KindChoice = (typeof KIND_CHOICES)[number]['value'];

export const RANGE_CHOICES = [
  { value: 'all', label: 'Any time', ms: null },
  { value: '15m', label: 'Last 15 minutes', ms: 15 * 60_000 },
  { value: '1h', label: 'Last hour', ms: 3_600_000 },
  { value: '24h', label: 'Last 24 hours', ms: 86_400_000 },
  { value: '7d', label: 'Last 7 days', ms: 7 * 86_400_000 },
  { value: 'custom', label: 'Between two times…', ms: null },
] as const;
export type RangeChoice = (typeof RANGE_CHOICES)[number]['value'];

/** What the operator chose; kept over a reload of the window. */
export interface EventFilters {
  hostId: number | null;
  process: string;
  kind: KindChoice | '';
  range: RangeChoice;
  /** `datetime-local` values (local time) for the custom range; empty: open on that side. */
  from: string;
  to: string;
}

export const NO_FILTERS: EventFilters = { hostId: null, process: '', kind: '', range: 'all', from: '', to: '' };

export function isFiltered(filters: EventFilters): boolean {
  return (
    filters.hostId !== null ||
    filters.process.trim() !== '' ||
    filters.kind !== '' ||
    (filters.range !== 'all' && filters.range !== 'custom') ||
    (filters.range === 'custom' && (filters.from !== '' || filters.to !== ''))
  );
}

/** A stored value back as filters, or null when it is not one (an older shape, a hand edit). */
export function restoreFilters(stored: unknown): EventFilters | null {
  if (stored === null || typeof stored !== 'object') return null;
  const s = stored as Record<string, unknown>;
  const valid =
    (s.hostId === null || (typeof s.hostId === 'number' && Number.isSafeInteger(s.hostId) && s.hostId > 0)) &&
    typeof s.process === 'string' &&
    (s.kind === '' || KIND_CHOICES.some((c) => c.value === s.kind)) &&
    RANGE_CHOICES.some((c) => c.value === s.range) &&
    typeof s.from === 'string' &&
    typeof s.to === 'string';
  return valid ? (s as unknown as EventFilters) : null;
}

function localTimeMs(value: string): number | undefined {
  if (value === '') return undefined;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

/** The subscription's filter: host, process and kinds (time does not apply to what is new). */
export function eventsFilter(filters: EventFilters): EventParams<'events.appended'> {
  const process = filters.process.trim();
  const kinds = KIND_CHOICES.find((c) => c.value === filters.kind)?.kinds;
  return {
    ...(filters.hostId !== null ? { hostId: filters.hostId } : {}),
    ...(process !== '' ? { process } : {}),
    ...(kinds ? { kinds: [...kinds] } : {}),
  };
}

/**
 * `events.list`'s filter for the choice; a relative range counts back from `anchorMs` (when
 * it was chosen), so the list does not move under the operator while it is read.
 */
export function eventsListParams(filters: EventFilters, anchorMs: number): Omit<MethodParams<'events.list'>, 'after' | 'limit'> {
  const range = RANGE_CHOICES.find((c) => c.value === filters.range);
  const fromMs = filters.range === 'custom' ? localTimeMs(filters.from) : range?.ms != null ? anchorMs - range.ms : undefined;
  const toMs = filters.range === 'custom' ? localTimeMs(filters.to) : undefined;
  return { ...eventsFilter(filters), ...(fromMs !== undefined ? { fromMs } : {}), ...(toMs !== undefined ? { toMs } : {}) };
}

/** Whether a newly recorded event belongs in a list of this time range (the subscription filters the rest). */
export function inTimeRange(event: FleetEvent, params: { fromMs?: number; toMs?: number }): boolean {
  return (params.fromMs === undefined || event.atMs >= params.fromMs) && (params.toMs === undefined || event.atMs < params.toMs);
}

/** Events newest first as `events.list` orders them (time, then id), each once. */
export function mergeEvents(...lists: ReadonlyArray<readonly FleetEvent[]>): FleetEvent[] {
  const byId = new Map<number, FleetEvent>();
  for (const list of lists) for (const event of list) byId.set(event.id, event);
  return [...byId.values()].sort((a, b) => b.atMs - a.atMs || b.id - a.id);
}

const KIND_WORDS: Record<string, string> = {
  'process.state': 'State change',
  'process.exit': 'Exited',
  'process.crash-loop': 'Crash-loop entered',
  'process.crash-loop-left': 'Crash-loop left',
  'process.health': 'Health change',
  'process.error': 'Runtime error',
  'manifest.updated': 'Manifest changed',
  'link.up': 'Link up',
  'link.degraded': 'Link degraded',
  'link.down': 'Link down',
  'action.start': 'Start',
  'action.stop': 'Stop',
  'action.restart': 'Restart',
  'action.scale': 'Scale',
};

/** The kind in words (`Crash-loop entered`); a kind this page does not know reads as itself. */
export function kindWords(kind: string): string {
  return KIND_WORDS[kind] ?? kind;
}

/** How a kind is coloured: a failure, a recovery, or neither. */
export function kindTone(event: Pick<FleetEvent, 'kind' | 'error'>): 'fail' | 'warn' | 'ok' | 'neutral' {
  if (event.kind === 'process.crash-loop' || event.kind === 'link.down' || event.kind === 'process.error') return 'fail';
  if (event.kind === 'process.exit' || event.kind === 'link.degraded' || event.error !== null) return 'warn';
  if (event.kind === 'process.crash-loop-left' || event.kind === 'link.up') return 'ok';
  return 'neutral';
}
