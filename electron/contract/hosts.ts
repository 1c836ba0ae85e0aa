import { z } from 'zod';
import { HostFactsSchema } from './host-facts';
import { ApiErrorBodySchema } from './errors';
import { HostRoleSchema, PinnedKeySchema } from './inventory';

/** How the host's last probe ended; the hosts list shows it as the host's status. */
export const LastProbeSchema = z.object({
  at: z.number().int(),
  ok: z.boolean(),
  error: ApiErrorBodySchema.nullable(),
});
export type LastProbe = z.infer<typeof LastProbeSchema>;

export const HostIdSchema = z.number().int().positive();

/**
 * hosts.list answers one page: at most `limit` hosts (HOSTS_PAGE_SIZE when absent, at most
 * MAX_HOSTS_PAGE) with an id above `after`, in id order. A full page means there may be
 * more: ask again with `after` set to the last id (listAllHosts does).
 */
export const HOSTS_PAGE_SIZE = 200;
export const MAX_HOSTS_PAGE = 500;
export const HostsPageParamsSchema = z
  .object({ after: HostIdSchema.optional(), limit: z.number().int().min(1).max(MAX_HOSTS_PAGE).default(HOSTS_PAGE_SIZE) })
  .strict();
export type HostsPageParams = z.input<typeof HostsPageParamsSchema>;

/** Every host, one page at a time: each call stays small, so other calls interleave with them. */
export async function listAllHosts<H extends { id: number }>(
  page: (params: { after?: number; limit: number }) => Promise<H[]> | H[],
  limit = HOSTS_PAGE_SIZE,
): Promise<H[]> {
  const all: H[] = [];
  for (let after: number | undefined; ;) {
    const hosts = await page(after === undefined ? { limit } : { after, limit });
    all.push(...hosts);
    const last = hosts[hosts.length - 1]?.id;
    // A short page is the last; so is one that does not move forward (never loop forever).
    if (hosts.length < limit || last === undefined || (after !== undefined && last <= after)) return all;
    after = last;
  }
}

export const HostSummarySchema = z.object({
  id: HostIdSchema,
  name: z.string(),
  kind: z.enum(['local', 'ssh']),
  address: z.string(),
  createdAt: z.number().int(),
  lastProbedAt: z.number().int().nullable(),
  os: z.string().nullable(),
  cpuModel: z.string().nullable(),
  cpuThreads: z.number().int().nullable(),
  memoryBytes: z.number().nullable(),
  gpuCount: z.number().int().nullable(),
  port: z.number().int(),
  user: z.string(),
  authMethod: z.enum(['none', 'key', 'agent', 'password']),
  keyPath: z.string().nullable(),
  /** Key login with a private key sealed in the vault (sent as text, never sent back); keyPath is null then. */
  keyStored: z.boolean(),
  hasSecret: z.boolean(),
  jumpHostId: z.number().int().nullable(),
  role: HostRoleSchema.nullable(),
  labels: z.array(z.string()),
  hostKey: PinnedKeySchema.nullable(),
  lastProbe: LastProbeSchema.nullable(),
});
export type HostSummary = z.infer<typeof HostSummarySchema>;

export const HostDetailSchema = z.object({
  host: HostSummarySchema,
  facts: HostFactsSchema.nullable(),
});
export type HostDetail = z.infer<typeof HostDetailSchema>;
