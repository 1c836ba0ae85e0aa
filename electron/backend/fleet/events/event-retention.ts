import { ApiError } from '../../../contract';

/** How long and how many fleet events the store keeps; the older, then the surplus, go on a timer. */
export interface EventRetention {
  maxAgeMs: number;
  maxEvents: number;
}

const DAY_MS = 24 * 3600 * 1000;

export const DEFAULT_EVENT_RETENTION: EventRetention = { maxAgeMs: 90 * DAY_MS, maxEvents: 500_000 };

/**
 * The bounds an operator may set. Below them a value would prune what the timeline and the
 * alerts still read; above them it would never prune anything a disk can hold: either way
 * it is refused, never clamped, so an accepted value is the one that acts.
 */
export const EVENT_RETENTION_LIMITS = {
  maxAgeDays: { min: 1, max: 3650 },
  maxEvents: { min: 1000, max: 50_000_000 },
} as const;

export const EVENT_RETENTION_ENV = {
  maxAgeDays: 'SUTAZAI_EVENTS_MAX_AGE_DAYS',
  maxEvents: 'SUTAZAI_EVENTS_MAX_COUNT',
} as const;

/** The retention from SUTAZAI_EVENTS_MAX_AGE_DAYS and SUTAZAI_EVENTS_MAX_COUNT, each defaulted when unset. */
export function eventRetentionFromEnv(env: Readonly<Record<string, string | undefined>>): EventRetention {
  const read = (key: keyof typeof EVENT_RETENTION_LIMITS): number | undefined => {
    const name = EVENT_RETENTION_ENV[key];
    const text = env[name];
    if (text === undefined || text.trim() === '') return undefined;
    const { min, max } = EVENT_RETENTION_LIMITS[key];
    const value = Number(text.trim());
    if (!/^\d+$/.test(text.trim()) || value < min || value > max) {
      throw new ApiError(
        'EVENTS_RETENTION_INVALID',
        `${name}=${text} is not a whole number from ${min} to ${max}.`,
        `Set ${name} to a whole number from ${min} to ${max} (${key === 'maxAgeDays' ? 'days' : 'events'}), or unset it for the default.`,
      );
    }
    return value;
  };
  const days = read('maxAgeDays');
  const count = read('maxEvents');
  return {
    maxAgeMs: days === undefined ? DEFAULT_EVENT_RETENTION.maxAgeMs : days * DAY_MS,
    maxEvents: count ?? DEFAULT_EVENT_RETENTION.maxEvents,
  };
}
