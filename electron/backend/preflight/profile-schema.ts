import { z } from 'zod';
import { parseByteSize } from './byte-size';

const Bytes = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const bytes = parseByteSize(value);
  if (bytes === null) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a size (write e.g. 16GiB, 512MiB or a number of bytes)` });
    return z.NEVER;
  }
  return bytes;
});

const Version = z.union([z.string(), z.number()]).transform(String);

/** A requirement profile (config/profiles/*.yaml): what a role needs from a machine. */
export const RequirementProfileSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
    description: z.string(),
    cpu: z
      .object({ minThreads: z.number().int().positive(), warnBelowThreads: z.number().int().positive().optional() })
      .strict()
      .optional(),
    memory: z.object({ minBytes: Bytes, warnBelowBytes: Bytes.optional() }).strict().optional(),
    disk: z
      .object({ installPath: z.string().startsWith('/'), minFreeBytes: Bytes, warnBelowFreeBytes: Bytes.optional() })
      .strict()
      .optional(),
    os: z
      .object({
        families: z.array(z.string()).min(1),
        versions: z.record(z.string(), z.object({ min: Version }).strict()).optional(),
      })
      .strict()
      .optional(),
    architectures: z
      .array(z.enum(['x64', 'arm64', 'arm', 'ia32', 'ppc64', 's390x', 'riscv64']))
      .min(1)
      .optional(),
    init: z.enum(['systemd', 'systemd-preferred', 'any']).default('any'),
    gpus: z
      .object({
        minCount: z.number().int().positive(),
        minMemoryBytes: Bytes.optional(),
        minDriver: Version.optional(),
        vendor: z.enum(['nvidia', 'any']).default('nvidia'),
      })
      .strict()
      .optional(),
    ports: z
      .object({ mustBeFree: z.array(z.number().int().min(1).max(65535)) })
      .strict()
      .optional(),
  })
  .strict();

export type RequirementProfile = z.output<typeof RequirementProfileSchema>;
