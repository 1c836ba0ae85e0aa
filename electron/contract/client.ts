import { ApiError } from './errors';
import {
  events,
  methods,
  type EventName,
  type EventPayload,
  type MethodName,
  type MethodParams,
  type MethodResult,
  type EventParams,
} from './api';
import { ServerMessageSchema, type ClientMessage } from './messages';

/** A pipe that carries JSON texts both ways: a MessagePort or a WebSocket. */
export interface Transport {
  send(text: string): void;
  onMessage(handler: (text: string) => void): void;
  onClose(handler: (reason: string) => void): void;
  close(): void;
}

export type Unsubscribe = () => Promise<void>;

export interface ApiClient {
  call<M extends MethodName>(method: M, params: MethodParams<M>): Promise<MethodResult<M>>;
  /** `onEnded`: the backend ended the subscription by itself (the operator may no longer receive it), with why; nothing follows. */
  subscribe<E extends EventName>(
    event: E,
    params: EventParams<E>,
    onPayload: (payload: EventPayload<E>) => void,
    onEnded?: (error: ApiError) => void,
  ): Promise<Unsubscribe>;
  close(): void;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: ApiError): void;
}

/**
 * The typed client every consumer of the contract uses. Results and event payloads are
 * parsed against the contract too: the renderer trusts nothing it did not validate.
 */
export function createApiClient(transport: Transport): ApiClient {
  let nextId = 1;
  let closedReason: string | null = null;
  const pending = new Map<number, Pending>();
  const listeners = new Map<string, { event: EventName; handler: (payload: unknown) => void; onEnded?: (error: ApiError) => void }>();

  transport.onMessage((text) => {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return; // The server only sends JSON; anything else is noise we refuse to act on.
    }
    const parsed = ServerMessageSchema.safeParse(raw);
    if (!parsed.success) return;
    const message = parsed.data;
    if (message.type === 'event') {
      const listener = listeners.get(message.subscriptionId);
      if (!listener) return;
      const payload = events[listener.event].payload.safeParse(message.payload);
      if (payload.success) listener.handler(payload.data);
      return;
    }
    if (message.type === 'subscriptionEnded') {
      const listener = listeners.get(message.subscriptionId);
      if (!listener) return;
      listeners.delete(message.subscriptionId);
      listener.onEnded?.(ApiError.fromBody(message.error));
      return;
    }
    if (typeof message.id !== 'number') return;
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.ok) waiter.resolve(message.result);
    else waiter.reject(ApiError.fromBody(message.error));
  });

  transport.onClose((reason) => {
    closedReason = reason;
    const error = disconnected(reason);
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
    listeners.clear();
  });

  function send(message: ClientMessage & { id: number }): Promise<unknown> {
    if (closedReason !== null) return Promise.reject(disconnected(closedReason));
    return new Promise((resolve, reject) => {
      pending.set(message.id, { resolve, reject });
      try {
        transport.send(JSON.stringify(message));
      } catch (cause) {
        pending.delete(message.id);
        reject(disconnected(String(cause)));
      }
    });
  }

  return {
    async call(method, params) {
      const raw = await send({ type: 'request', id: nextId++, method, params });
      const result = methods[method].result.safeParse(raw);
      if (!result.success) {
        throw new ApiError(
          'BAD_MESSAGE',
          `The backend answered ${method} with a result that does not match the contract.`,
          'The app and its backend are out of step; restart the app. If it persists, report it with the app log.',
        );
      }
      return result.data as MethodResult<typeof method>;
    },
    async subscribe(event, params, onPayload, onEnded) {
      const raw = await send({ type: 'subscribe', id: nextId++, event, params });
      const subscriptionId = (raw as { subscriptionId?: unknown } | null)?.subscriptionId;
      if (typeof subscriptionId !== 'string') {
        throw new ApiError('BAD_MESSAGE', `The backend did not confirm the ${event} subscription.`, 'Restart the app.');
      }
      listeners.set(subscriptionId, { event, handler: onPayload as (payload: unknown) => void, ...(onEnded ? { onEnded } : {}) });
      return async () => {
        if (!listeners.delete(subscriptionId) || closedReason !== null) return;
        await send({ type: 'unsubscribe', id: nextId++, subscriptionId });
      };
    },
    close() {
      transport.close();
    },
  };
}

function disconnected(reason: string): ApiError {
  return new ApiError(
    'DISCONNECTED',
    `The connection to the backend is closed (${reason}).`,
    'Reload the window; if the backend stopped, restart the app.',
  );
}
