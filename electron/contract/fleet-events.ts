import { z } from 'zod';
import { HostIdSchema } from './hosts';

/**
 * The fleet's events (issue 12, item 3): what each host's runtime reported (state changes,
 * crashes with their last log lines, crash-loop entered and left, health, manifest
 * changes), the links going up and down, and every operator action with who did it. Kept
 * in the store (deduplicated across reconnects and runtime restarts) and pruned by age and
 * count.
 */

/**
 * Where an event came from: a host's `runtime` (at its clock), a host's `link` (this
 * machine's clock), or an `operator` action through this app.
 */
export const FleetEventOriginSchema = z.enum(['runtime', 'link', 'operator']);
export type FleetEventOrigin = z.infer<typeof FleetEventOriginSchema>;

/**
 * The kinds this app records itself; a runtime's kinds (`process.state`, `process.exit`,
 * `process.crash-loop`, `process.crash-loop-left`, `process.health`, `process.error`,
 * `manifest.updated`, ...) are kept as the runtime names them, and operator actions are
 * `action.<what>` (`action.restart`, `action.scale`, ...).
 */
export const LINK_EVENT_KINDS = ['link.up', 'link.degraded', 'link.down'] as const;

/** A dotted kind: `process.exit`, `link.down`, `action.restart`. */
export const FleetEventKindSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*)+$/, 'a dotted event kind, e.g. process.exit or link.down')
  .max(64);

export const FleetEventErrorSchema = z.object({ code: z.string(), message: z.string(), remedy: z.string() });

export const FleetEventSchema = z.object({
  /** Increases in the order events were recorded; stable, so it pages and follows. */
  id: z.number().int().positive(),
  /** When it happened, ms: a runtime's events at the runtime's clock, the others at this machine's. */
  atMs: z.number().int(),
  kind: FleetEventKindSchema,
  origin: FleetEventOriginSchema,
  installName: z.string().nullable(),
  hostId: HostIdSchema.nullable(),
  /** The host's name when the event was recorded (kept after the host is removed). */
  hostName: z.string().nullable(),
  process: z.string().nullable(),
  instance: z.string().nullable(),
  /** For process.state: the state entered. */
  state: z.string().nullable(),
  message: z.string(),
  error: FleetEventErrorSchema.nullable(),
  /** For a crash: the instance's last log lines, oldest first. */
  lastLines: z.array(z.string()),
  /** Who did it, for an operator action: `desktop`, `web:<session>`, `cli:<user>`; null for what no one did. */
  actor: z.string().nullable(),
});
export type FleetEvent = z.infer<typeof FleetEventSchema>;

/** Where a page of events ends: the next page starts after it (older events, in the same order). */
export const FleetEventCursorSchema = z.object({ atMs: z.number().int(), id: z.number().int().positive() }).strict();
export type FleetEventCursor = z.infer<typeof FleetEventCursorSchema>;

/** Each event carries up to 20 last lines; a page of 50 stays well inside one message. */
export const MAX_EVENTS_PAGE = 50;

const FleetEventFilterShape = {
  hostId: HostIdSchema.optional(),
  /** An instance's process (`agent`) or the instance itself (`agent-2`). */
  process: z.string().min(1).max(128).optional(),
  kinds: z.array(FleetEventKindSchema).min(1).max(32).optional(),
};

export const EventsListParamsSchema = z
  .object({
    ...FleetEventFilterShape,
    /** Events at or after this time, ms. */
    fromMs: z.number().int().optional(),
    /** Events before this time, ms. */
    toMs: z.number().int().optional(),
    /** The page after this one: older events than it (from the previous page's `next`). */
    after: FleetEventCursorSchema.optional(),
    limit: z.number().int().min(1).max(MAX_EVENTS_PAGE).default(MAX_EVENTS_PAGE),
  })
  .strict();
export type EventsListParams = z.output<typeof EventsListParamsSchema>;

export const EventsPageSchema = z.object({
  /** Newest first (by time, then by id: a stable order). */
  events: z.array(FleetEventSchema),
  /** Where the next (older) page starts; null when this one is the last. */
  next: FleetEventCursorSchema.nullable(),
});
export type EventsPage = z.infer<typeof EventsPageSchema>;

export const fleetEventMethods = {
  /** One page of the fleet's events, newest first, filtered by host, process, kind and time. */
  'events.list': {
    params: EventsListParamsSchema,
    result: EventsPageSchema,
  },
} as const;

export const fleetEventEvents = {
  /** Each event as it is recorded (by this backend or another one on the same data directory), in id order. */
  'events.appended': {
    params: z.object(FleetEventFilterShape).strict(),
    payload: FleetEventSchema,
  },
} as const;
