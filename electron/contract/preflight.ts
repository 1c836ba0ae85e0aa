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

/** How many checks came out each way. */
export const OutcomeCountsSchema = z.object({ pass: z.number().int(), warn: z.number().int(), fail: z.number().int() });
export type OutcomeCounts = z.infer<typeof OutcomeCountsSchema>;

/** A host's newest preflight as the hosts list shows it: its verdict and counts, not every check. */
export const PreflightSummarySchema = HostPreflightSchema.pick({
  hostId: true,
  hostName: true,
  profile: true,
  outcome: true,
  ranAt: true,
}).extend({ counts: OutcomeCountsSchema });
export type PreflightSummary = z.infer<typeof PreflightSummarySchema>;

export function countOutcomes(checks: ReadonlyArray<Pick<PreflightCheck, 'outcome'>>): OutcomeCounts {
  const counts: OutcomeCounts = { pass: 0, warn: 0, fail: 0 };
  for (const check of checks) counts[check.outcome] += 1;
  return counts;
}

export function summarizePreflight(result: HostPreflight): PreflightSummary {
  return {
    hostId: result.hostId,
    hostName: result.hostName,
    profile: result.profile,
    outcome: result.outcome,
    ranAt: result.ranAt,
    counts: countOutcomes(result.checks),
  };
}

/**
 * preflight.latest answers for one page of the inventory (hosts.list's paging: the hosts
 * after `after`, in id order); `next` is the cursor for the following page, null after
 * the last. Each answer stays small however many hosts there are.
 */
export const LatestPreflightPageSchema = z.object({
  results: z.array(PreflightSummarySchema),
  next: z.number().int().positive().nullable(),
});
export type LatestPreflightPage = z.infer<typeof LatestPreflightPageSchema>;

/** Every host's newest preflight, one page at a time (bounded: a cursor that does not move ends it). */
export async function latestPreflightsOfAllHosts(
  page: (params: { after?: number }) => Promise<LatestPreflightPage>,
): Promise<PreflightSummary[]> {
  const all: PreflightSummary[] = [];
  for (let after: number | undefined; ;) {
    const answer = await page(after === undefined ? {} : { after });
    all.push(...answer.results);
    if (answer.next === null || (after !== undefined && answer.next <= after)) return all;
    after = answer.next;
  }
}

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
