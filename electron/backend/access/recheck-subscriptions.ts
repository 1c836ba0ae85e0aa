import type { Dispatcher } from '../server/dispatcher';

/** How often open subscriptions are checked again: an operator changed here or by another process (the CLI) counts within this. */
export const SUBSCRIPTION_RECHECK_MS = 1_000;

/**
 * Checks every open subscription against its operator as the store says now, on a timer,
 * since a feed is otherwise checked only when it starts: an operator disabled, removed or
 * demoted (by this process or by `sutazai operators` in another) stops receiving what the
 * new role may not, each ended feed told why (the dispatcher's `subscriptionEnded`). One read
 * of each subscribed pipe's operator a second: nothing next to the feeds themselves.
 * Returns the stop.
 */
export function startSubscriptionRechecks(
  dispatcher: Pick<Dispatcher, 'recheckSubscriptions'>,
  logger: { info(details: object, message: string): void },
  everyMs = SUBSCRIPTION_RECHECK_MS,
): () => void {
  const timer = setInterval(() => {
    const ended = dispatcher.recheckSubscriptions();
    if (ended > 0) logger.info({ ended }, 'ended subscriptions their operator may no longer receive');
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
