import { z } from 'zod';

/** Host names double as CLI arguments and YAML keys: keep them plain. */
export const HostNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'use letters, digits, ".", "_" or "-" (up to 63), starting with a letter or digit');

/** Labels select hosts (`gpu`, `rack=b4`, `site/lab-2`). */
export const LabelSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/=-]{0,62}$/, 'use letters, digits and . _ / = - (up to 63)');

export const HostRoleSchema = z.enum(['core', 'agent', 'both']);
export type HostRole = z.infer<typeof HostRoleSchema>;

export const PortSchema = z.number().int().min(1, 'a port is 1 to 65535').max(65535, 'a port is 1 to 65535');

/** An address the operator typed: a DNS name, an IPv4 or an IPv6 address. */
export const AddressSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.:_%-]+$/, 'an address is a host name, an IPv4 or an IPv6 address');

/**
 * How the control center logs in. Secrets (password, passphrase, sudo password) travel
 * only inward: they are sealed on arrival and never sent back by any method.
 */
/**
 * A private key sent as its text is a few KiB (an RSA 8192 key in OpenSSH form is under 7 KiB);
 * anything bigger was chosen by mistake, and is refused before it is parsed.
 */
export const MAX_PRIVATE_KEY_TEXT = 16 * 1024;

export const AuthInputSchema = z.discriminatedUnion('method', [
  /** A key file on the backend's machine: only where the page sits at that machine (desktop) or the command line; never web mode. */
  z.object({ method: z.literal('key'), keyPath: z.string().min(1).max(4096), passphrase: z.string().min(1).max(1024).optional() }).strict(),
  /**
   * The private key itself (OpenSSH or PEM text), pasted or read from the operator's own
   * computer by the page: checked on arrival, sealed in the vault, never sent back.
   */
  z
    .object({
      method: z.literal('keyText'),
      privateKey: z
        .string()
        .min(1)
        .max(MAX_PRIVATE_KEY_TEXT, `a private key is at most ${MAX_PRIVATE_KEY_TEXT / 1024} KiB of text`),
      passphrase: z.string().min(1).max(1024).optional(),
    })
    .strict(),
  z.object({ method: z.literal('agent') }).strict(),
  z.object({ method: z.literal('password'), password: z.string().min(1).max(1024) }).strict(),
]);
export type AuthInput = z.infer<typeof AuthInputSchema>;

export const HostInputSchema = z
  .object({
    name: HostNameSchema,
    address: AddressSchema,
    port: PortSchema.default(22),
    user: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9._][A-Za-z0-9._-]*\$?$/, 'a POSIX user name'),
    auth: AuthInputSchema,
    /** Asked by sudo when the login needs a password for it; the login password is tried when absent. */
    sudoPassword: z.string().min(1).max(1024).optional(),
    jumpHostId: z.number().int().positive().nullable().default(null),
    role: HostRoleSchema.nullable().default(null),
    labels: z.array(LabelSchema).max(32).default([]),
  })
  .strict();
export type HostInput = z.input<typeof HostInputSchema>;
export type ParsedHostInput = z.output<typeof HostInputSchema>;

export const HostChangesSchema = z
  .object({
    name: HostNameSchema,
    address: AddressSchema,
    port: PortSchema,
    user: HostInputSchema.shape.user,
    auth: AuthInputSchema,
    sudoPassword: z.string().min(1).max(1024).nullable(),
    jumpHostId: z.number().int().positive().nullable(),
    role: HostRoleSchema.nullable(),
    labels: z.array(LabelSchema).max(32),
  })
  .partial()
  .strict();

/** An SSH host key's fingerprint as OpenSSH prints it (the form an operator confirms). */
export const HostKeyFingerprintSchema = z
  .string()
  .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'a fingerprint looks like SHA256: followed by 43 base64 characters');

export const PinnedKeySchema = z.object({
  keyType: z.string(),
  fingerprint: z.string(),
  trustedAt: z.number().int(),
});
export type PinnedKey = z.infer<typeof PinnedKeySchema>;

/** One row of a bulk import that could not be taken, located in the file. */
export const ImportErrorSchema = z.object({
  row: z.number().int().nonnegative().nullable(),
  line: z.number().int().positive().nullable(),
  column: z.number().int().positive().nullable(),
  field: z.string().nullable(),
  message: z.string(),
  remedy: z.string(),
});
export type ImportError = z.infer<typeof ImportErrorSchema>;

/** One host's state in a bulk probe, as the progress view shows it. */
export const ProbeProgressSchema = z.object({
  jobId: z.string(),
  hostId: z.number().int().positive(),
  hostName: z.string(),
  state: z.enum(['queued', 'connecting', 'probing', 'storing', 'done', 'failed', 'cancelled']),
  error: z.object({ code: z.string(), message: z.string(), remedy: z.string() }).nullable(),
  elapsedMs: z.number().int().nonnegative(),
  /** Hosts finished (done, failed or cancelled) out of all in the job. */
  finished: z.number().int().nonnegative(),
  total: z.number().int().positive(),
});
export type ProbeProgress = z.infer<typeof ProbeProgressSchema>;
