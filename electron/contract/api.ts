import { z } from 'zod';
import { HostFactsSchema } from './host-facts';
import { HostDetailSchema, HostIdSchema, HostSummarySchema } from './hosts';
import { LiveSampleSchema, MetricsQueryParamsSchema, MetricsQueryResultSchema } from './metrics';

/**
 * Every method the renderer (or any other client) may call, defined once. The
 * dispatcher parses params against these schemas on arrival; the client parses results.
 */
export const methods = {
  'app.info': {
    params: z.object({}).strict(),
    result: z.object({
      version: z.string(),
      mode: z.enum(['desktop', 'web', 'cli', 'test']),
      dataDir: z.string(),
      platform: z.string(),
      startedAt: z.number().int(),
    }),
  },
  'hosts.list': {
    params: z.object({}).strict(),
    result: z.array(HostSummarySchema),
  },
  'hosts.get': {
    params: z.object({ hostId: HostIdSchema }).strict(),
    result: HostDetailSchema,
  },
  'hosts.probe': {
    params: z.object({ hostId: HostIdSchema }).strict(),
    result: HostFactsSchema,
  },
  'metrics.query': {
    params: MetricsQueryParamsSchema,
    result: MetricsQueryResultSchema,
  },
} as const;

/** Every event a client may subscribe to, with the params that narrow it. */
export const events = {
  'metrics.live': {
    params: z.object({ hostId: HostIdSchema }).strict(),
    payload: LiveSampleSchema,
  },
  'hosts.changed': {
    params: z.object({}).strict(),
    payload: z.object({ hostId: HostIdSchema }),
  },
} as const;

export type Methods = typeof methods;
export type Events = typeof events;
export type MethodName = keyof Methods;
export type EventName = keyof Events;
export type MethodParams<M extends MethodName> = z.input<Methods[M]['params']>;
export type ParsedParams<M extends MethodName> = z.output<Methods[M]['params']>;
export type MethodResult<M extends MethodName> = z.output<Methods[M]['result']>;
export type EventParams<E extends EventName> = z.output<Events[E]['params']>;
export type EventPayload<E extends EventName> = z.output<Events[E]['payload']>;

export function isMethodName(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(methods, name);
}

export function isEventName(name: string): name is EventName {
  return Object.prototype.hasOwnProperty.call(events, name);
}
