import type { RuntimeEvent, RuntimeEventInput } from './runtime-event';

/** Stops a subscription; safe to call more than once. */
type Unsubscribe = () => void;

export interface EventFeedLimits {
  /** The most events the ring keeps (default 1000). */
  maxEvents: number;
  /** The most characters of messages and last lines together it keeps (default 4 Mi), so crash events full of lines cannot grow it without bound. */
  maxChars: number;
}

export const DEFAULT_EVENT_FEED_LIMITS: EventFeedLimits = { maxEvents: 1000, maxChars: 4 * 1024 * 1024 };

/**
 * The daemon's events in the order raised: each stamped with its identity (this run's start
 * and a sequence), kept in a small ring, and handed to every watcher. A watcher that names a
 * time gets what the ring holds from the first event raised at or after it, then the live
 * ones, with nothing between the two lost or repeated (both happen in one synchronous step).
 * The ring is how a control center whose link was cut catches up without a gap; an event
 * older than the ring, or raised by an earlier run of the daemon, is not sent again.
 */
export class EventFeed {
  private readonly ring: RuntimeEvent[] = [];
  private ringChars = 0;
  private sequence = 0;
  private readonly listeners = new Set<(event: RuntimeEvent) => void>();

  constructor(
    private readonly runStartedAtMs: number,
    private readonly limits: EventFeedLimits = DEFAULT_EVENT_FEED_LIMITS,
  ) {}

  publish(input: RuntimeEventInput): RuntimeEvent {
    this.sequence += 1;
    const event: RuntimeEvent = {
      ...input,
      lastLines: input.lastLines ?? [],
      runStartedAtMs: this.runStartedAtMs,
      sequence: this.sequence,
    };
    this.ring.push(event);
    this.ringChars += charsOf(event);
    while (this.ring.length > 1 && (this.ring.length > this.limits.maxEvents || this.ringChars > this.limits.maxChars)) {
      this.ringChars -= charsOf(this.ring.shift()!);
    }
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // a broken watcher must not stop the others
      }
    }
    return event;
  }

  /** `sinceMs` > 0: the ring from the first event at or after it first; 0: live events only. */
  watch(sinceMs: number, onEvent: (event: RuntimeEvent) => void): Unsubscribe {
    if (sinceMs > 0) {
      // From the first one at or after sinceMs in the order raised, not every one at or after
      // it: a clock stepped back must not hide the events raised after the step.
      const from = this.ring.findIndex((event) => event.atMs >= sinceMs);
      if (from >= 0) for (const event of this.ring.slice(from)) onEvent(event);
    }
    this.listeners.add(onEvent);
    return () => this.listeners.delete(onEvent);
  }

  get size(): number {
    return this.ring.length;
  }
}

function charsOf(event: RuntimeEvent): number {
  return event.message.length + event.lastLines.reduce((sum, line) => sum + line.length, 0);
}
