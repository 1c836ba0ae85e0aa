/**
 * Words of the runtime's config file (daemon/runtime-config.ts) that the control center
 * writes too (its install configuration renders that file), defined once for both ends.
 */

/** How log lines get their timestamps (process/process-driver.ts says what each does). */
export const LOG_TIMESTAMPS = ['auto', 'bash', 'node', 'collector', 'raw'] as const;
export type LogTimestamps = (typeof LOG_TIMESTAMPS)[number];
