import { z } from 'zod';
import { HostFactsSchema } from './host-facts';
import { HostRoleSchema, PinnedKeySchema } from './inventory';

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
});
export type HostSummary = z.infer<typeof HostSummarySchema>;

export const HostDetailSchema = z.object({
  host: HostSummarySchema,
  facts: HostFactsSchema.nullable(),
});
export type HostDetail = z.infer<typeof HostDetailSchema>;
