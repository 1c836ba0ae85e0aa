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
