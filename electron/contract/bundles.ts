import { z } from 'zod';

/** A bundle signing key as operators compare it: like an SSH key, "SHA256:" and 43 base64 characters. */
export const BundleKeyFingerprintSchema = z
  .string()
  .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'a fingerprint looks like SHA256: followed by 43 base64 characters');

export const BundleArchitectureSchema = z.enum(['linux-x64', 'linux-arm64']);

/** An upload held for this session (web mode): the id POST /upload answered. */
export const BundleUploadIdSchema = z.string().min(1).max(100);

/** A path on the machine the backend runs on. */
export const BundleFilePathSchema = z.string().min(1).max(4096);

/** What a release bundle holds, as bundle.json says and the checks confirmed. */
export const BundleContentsSchema = z.object({
  name: z.string(),
  version: z.string(),
  /** When it was built (ISO 8601). */
  createdAt: z.string(),
  components: z.record(z.string(), z.object({ version: z.string(), dependsOn: z.array(z.string()) })),
  architectures: z.array(BundleArchitectureSchema),
  profiles: z.array(z.string()),
  compatibility: z.object({ controlCenter: z.string(), runtime: z.string() }),
  /** SHA-256 of the whole bundle file. */
  sha256: z.string(),
  sizeBytes: z.number().int().nonnegative(),
});

export const BundleVerificationSchema = BundleContentsSchema.extend({
  path: z.string(),
  /** Files inside, the describing ones included. */
  fileCount: z.number().int().nonnegative(),
  signer: z.object({
    fingerprint: BundleKeyFingerprintSchema,
    /** The signer's own name for the key: a hint, proof of nothing. */
    label: z.string(),
    /** Whether the operator trusts this key; an untrusted one is refused on import until confirmed. */
    trusted: z.boolean(),
    trustedAt: z.number().int().nullable(),
  }),
});
export type BundleVerification = z.infer<typeof BundleVerificationSchema>;

export const BundleSummarySchema = BundleContentsSchema.extend({
  id: z.number().int().positive(),
  /** Where the imported copy is kept, in the data directory. */
  path: z.string(),
  importedAt: z.number().int(),
  signer: z.object({ fingerprint: BundleKeyFingerprintSchema, label: z.string() }),
});
export type BundleSummary = z.infer<typeof BundleSummarySchema>;

export const BundleImportResultSchema = z.object({
  bundle: BundleSummarySchema,
  /** The same file was imported before; nothing changed. */
  alreadyImported: z.boolean(),
  /** This import trusted the signer's key for the first time. */
  keyTrusted: z.boolean(),
});
export type BundleImportResult = z.infer<typeof BundleImportResultSchema>;

export const TrustedBundleKeySchema = z.object({
  fingerprint: BundleKeyFingerprintSchema,
  label: z.string(),
  trustedAt: z.number().int(),
  /** Who trusted it: desktop, web or cli. */
  trustSource: z.string(),
});
export type TrustedBundleKey = z.infer<typeof TrustedBundleKeySchema>;
