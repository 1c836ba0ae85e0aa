/**
 * A timer for a deadline of any length. Node keeps a setTimeout delay only up to 2^31-1 ms
 * (~24.8 days) and fires a longer one after 1 ms instead, while grpc-timeout allows up to
 * 99999999H and grpc-js's clients send 30 days as `2592000S`: such a deadline is waited out
 * in steps Node can hold, on the monotonic clock.
 */
import { monotonicMs } from '../clock/monotonic-ms';

/** The longest delay setTimeout keeps. */
export const MAX_TIMER_MS = 2_147_483_647;

export interface LongTimer {
  clear(): void;
}

export function startLongTimer(ms: number, fire: () => void): LongTimer {
  const at = monotonicMs() + Math.max(0, ms);
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const left = at - monotonicMs();
    timer = left > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(fire, Math.max(0, left));
  };
  arm();
  return { clear: () => clearTimeout(timer) };
}
