import { z } from 'zod';
import { ApiErrorBodySchema } from './errors';
import { HostIdSchema } from './hosts';

/**
 * The fleet's links (issue 12, item 1): one per host of every recorded install, carrying
 * one SSH session, one tunnel and one gRPC channel to the host's runtime. `online`: the
 * runtime answers and every stream runs; `degraded`: it answers but a stream (metrics,
 * events) keeps failing; `connecting`; `offline`, with the reason.
 */
export const FleetLinkStateSchema = z.enum(['connecting', 'online', 'degraded', 'offline']);
export type FleetLinkState = z.infer<typeof FleetLinkStateSchema>;

export const FleetLinkSchema = z.object({
  installName: z.string(),
  hostId: HostIdSchema,
  hostName: z.string(),
  state: FleetLinkStateSchema,
  /** When the runtime was last heard from (a call answered, a stream message), ms; null before the first time. */
  lastSeenMs: z.number().int().nullable(),
  /** When the link entered this state, ms. */
  sinceMs: z.number().int(),
  /** Why it is offline or degraded, or why it went down while it connects again; null when online and when first connecting. */
  reason: ApiErrorBodySchema.nullable(),
});
export type FleetLink = z.infer<typeof FleetLinkSchema>;

export const FleetLinkChangeSchema = FleetLinkSchema.extend({
  /** The state it left; null for a link that has just started. */
  previousState: FleetLinkStateSchema.nullable(),
  /** The host left its install: this is the link's last change, and it is gone from fleet.links. */
  removed: z.boolean(),
});
export type FleetLinkChange = z.infer<typeof FleetLinkChangeSchema>;

export const fleetLinkMethods = {
  /** Every link's state now, by install then host name. */
  'fleet.links': {
    params: z.object({}).strict(),
    result: z.array(FleetLinkSchema),
  },
} as const;

export const fleetLinkEvents = {
  /** A link changed state (every change, in order), with the reason. */
  'fleet.linkChanged': {
    params: z.object({}).strict(),
    payload: FleetLinkChangeSchema,
  },
} as const;
