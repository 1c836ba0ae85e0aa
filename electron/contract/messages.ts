import { z } from 'zod';
import { ApiErrorBodySchema } from './errors';

/**
 * The wire format, the same on every pipe (MessagePort in the desktop app, WebSocket in
 * web mode and tests): one JSON text per message. Ids are chosen by the client.
 */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

const IdSchema = z.union([z.string().min(1).max(64), z.number().int().nonnegative()]);

export const RequestMessageSchema = z.object({
  type: z.literal('request'),
  id: IdSchema,
  method: z.string().min(1).max(128),
  params: z.unknown().optional(),
});

export const SubscribeMessageSchema = z.object({
  type: z.literal('subscribe'),
  id: IdSchema,
  event: z.string().min(1).max(128),
  params: z.unknown().optional(),
});

export const UnsubscribeMessageSchema = z.object({
  type: z.literal('unsubscribe'),
  id: IdSchema,
  subscriptionId: z.string().min(1).max(64),
});

export const ClientMessageSchema = z.discriminatedUnion('type', [RequestMessageSchema, SubscribeMessageSchema, UnsubscribeMessageSchema]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;

export const ResponseMessageSchema = z.union([
  z.object({ type: z.literal('response'), id: IdSchema, ok: z.literal(true), result: z.unknown() }),
  z.object({
    type: z.literal('response'),
    // null when the message was too broken to carry an id.
    id: IdSchema.nullable(),
    ok: z.literal(false),
    error: ApiErrorBodySchema,
  }),
]);

export const EventMessageSchema = z.object({
  type: z.literal('event'),
  subscriptionId: z.string(),
  event: z.string(),
  payload: z.unknown(),
});

/**
 * A subscription the backend ended by itself: the pipe's operator may no longer receive it
 * (disabled, removed, given a role that may not, or signed out). No event follows for it.
 */
export const SubscriptionEndedMessageSchema = z.object({
  type: z.literal('subscriptionEnded'),
  subscriptionId: z.string(),
  event: z.string(),
  error: ApiErrorBodySchema,
});

export const ServerMessageSchema = z.union([ResponseMessageSchema, EventMessageSchema, SubscriptionEndedMessageSchema]);
export type ServerMessage = z.infer<typeof ServerMessageSchema>;
export type ResponseMessage = z.infer<typeof ResponseMessageSchema>;
export type EventMessage = z.infer<typeof EventMessageSchema>;
