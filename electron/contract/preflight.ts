import { z } from 'zod';

export const OutcomeSchema = z.enum(['pass', 'warn', 'fail']);
export type Outcome = z.infer<typeof OutcomeSchema>;

/** One analyzer's verdict, troubleshoot.sh style: an outcome, what was found, what to do. */
export const PreflightCheckSchema = z.object({
  id: z.string(),
  title: z.string(),
  outcome: OutcomeSchema,
  message: z.string(),
  remedy: z.string(),
});
export type PreflightCheck = z.infer<typeof PreflightCheckSchema>;

export const HostPreflightSchema = z.object({
  hostId: z.number().int(),
  hostName: z.string(),
  profile: z.string(),
  outcome: OutcomeSchema,
  ranAt: z.number().int(),
  /** When the facts judged here were probed; null when the host has never been probed. */
  factsProbedAt: z.number().int().nullable(),
  checks: z.array(PreflightCheckSchema),
});
export type HostPreflight = z.infer<typeof HostPreflightSchema>;

export const PreflightReportSchema = z.object({
  profile: z.string(),
  ranAt: z.number().int(),
  outcome: OutcomeSchema,
  hosts: z.array(HostPreflightSchema),
  /** Checks across the selected hosts: unique names, machine-ids, addresses; clock skew. */
  crossHost: z.array(PreflightCheckSchema.extend({ hostIds: z.array(z.number().int()) })),
});
export type PreflightReport = z.infer<typeof PreflightReportSchema>;

export const ProfileSummarySchema = z.object({ name: z.string(), description: z.string() });
