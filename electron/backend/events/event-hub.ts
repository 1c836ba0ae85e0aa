import type { EventName, EventPayload } from '../../contract';

type Listener<E extends EventName> = (payload: EventPayload<E>) => void;

/**
 * In-process fan-out from the parts that produce events (sampler, probes) to every
 * connection subscribed to them. A listener that throws is reported, never allowed to
 * starve the others.
 */
export class EventHub {
  private readonly listeners = new Map<EventName, Set<Listener<EventName>>>();

  constructor(private readonly onListenerError: (event: EventName, error: unknown) => void) {}

  on<E extends EventName>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as Listener<EventName>);
    return () => {
      set.delete(listener as Listener<EventName>);
    };
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        listener(payload);
      } catch (error) {
        this.onListenerError(event, error);
      }
    }
  }

  listenerCount(event: EventName): number {
    return this.listeners.get(event)?.size ?? 0;
  }
}
