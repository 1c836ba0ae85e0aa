import { z } from 'zod';
import { BundleFilePathSchema, BundleKeyFingerprintSchema } from './bundles';

/** Configuration exports (issue 15): a signed `.sutazai-config` bundle or plain YAML, and their import with review. */

export const ConfigExportParamsSchema = z
  .object({
    /** Where the backend writes the file (never over an existing one). */
    path: BundleFilePathSchema,
    format: z.enum(['bundle', 'yaml']),
    /** One install and what it needs; without it, the whole inventory. */
    install: z.string().min(1).max(200).optional(),
    /** Secrets (passwords, key passphrases, sudo passwords, CA keys) sealed to this passphrase; bundles only. Left out without it. */
    secretsPassphrase: z.string().min(1).max(1024).optional(),
  })
  .strict();

/** Web mode's export: the same choices, no path; the file is offered to this session once (configBundles.exportDownload). */
export const ConfigExportDownloadParamsSchema = ConfigExportParamsSchema.omit({ path: true });

export const ConfigExportResultSchema = z.object({
  path: z.string(),
  format: z.enum(['bundle', 'yaml']),
  sha256: z.string(),
  hosts: z.number().int(),
  installs: z.number().int(),
  bundleKeys: z.number().int(),
  /** Alert rule and access policy files of the site. */
  siteFiles: z.number().int(),
  /** How many secrets were sealed into the file (0 when none were asked for). */
  secrets: z.number().int(),
  /** The key that signed a bundle; null for YAML. */
  signedBy: BundleKeyFingerprintSchema.nullable(),
});
export type ConfigExportResult = z.infer<typeof ConfigExportResultSchema>;

export const ConfigItemKindSchema = z.enum(['host', 'host-key', 'install', 'bundle-key', 'site-file', 'operator']);

/** A file's SHA-256 as the review reported it: the import names it, so what was reviewed is what is applied. */
export const ConfigFileSha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in 64 lowercase hex digits');

export const ConfigReviewItemSchema = z.object({
  /** What selects the item for import, e.g. `host:db-1`, `host-key:db-1`, `install:prod`, `bundle-key:SHA256:...`, `site-file:alerts/disk.yaml`. */
  id: z.string(),
  kind: ConfigItemKindSchema,
  name: z.string(),
  /**
   * new, changed (see changes), unchanged, conflict (imported only when chosen by itself,
   * never by "all"), or blocked (cannot be imported here: see reason).
   */
  status: z.enum(['new', 'changed', 'unchanged', 'conflict', 'blocked']),
  changes: z.array(z.object({ field: z.string(), from: z.string(), to: z.string() })),
  /** Why a conflict is one or why the item is blocked, in words. */
  reason: z.string().nullable(),
});
export type ConfigReviewItem = z.infer<typeof ConfigReviewItemSchema>;

export const ConfigReviewSchema = z.object({
  path: z.string(),
  kind: z.enum(['bundle', 'yaml']),
  /** Who signed a bundle; null for a YAML export, which is unsigned (the operator's own file). */
  exporter: z
    .object({
      fingerprint: BundleKeyFingerprintSchema,
      label: z.string(),
      /** This control center itself, or one the operator trusted. */
      trusted: z.boolean(),
      own: z.boolean(),
    })
    .nullable(),
  /** The file carries sealed secrets (opened only with the export passphrase). */
  hasSecrets: z.boolean(),
  /**
   * The file's secrets were opened with the passphrase and compared with this store's. When
   * false and hasSecrets, the review did not compare them: sealedNotCompared names the items
   * they belong to (empty for a file from before the names were written beside the seal).
   */
  secretsCompared: z.boolean(),
  sealedNotCompared: z.array(z.object({ id: z.string(), secret: z.string() })),
  /** The SHA-256 of the file as read for this review: configBundles.import must name it. */
  sha256: ConfigFileSha256Schema,
  items: z.array(ConfigReviewItemSchema),
});
export type ConfigReview = z.infer<typeof ConfigReviewSchema>;

const SecretsChoice = z.object({
  /** The export passphrase that opens the file's secrets. */
  secretsPassphrase: z.string().min(1).max(1024).optional(),
  /** Import a bundle that carries secrets without them (the passwords are entered again per host). */
  withoutSecrets: z.boolean().optional(),
});

export const ConfigReviewParamsSchema = z.object({ path: BundleFilePathSchema }).extend(SecretsChoice.shape).strict();

export const ConfigImportParamsSchema = z
  .object({
    path: BundleFilePathSchema,
    /** `all`: every new and changed item (conflicts and blocked ones are left and listed); or the ids of the items to apply. */
    items: z.union([z.literal('all'), z.array(z.string()).min(1).max(10_000)]),
    /** Confirms an exporter not trusted yet, by the fingerprint the review showed. */
    trustExporter: BundleKeyFingerprintSchema.optional(),
    /** The SHA-256 the review reported: a file changed since (CONFIG_IMPORT_FILE_CHANGED) is not imported. */
    sha256: ConfigFileSha256Schema,
  })
  .extend(SecretsChoice.shape)
  .strict();

/** An upload this session sent (POST /upload, web mode): reviewed, then imported, by its id; never a path. */
const UploadIdSchema = z.string().min(1).max(100);

export const ConfigReviewUploadParamsSchema = z.object({ uploadId: UploadIdSchema }).extend(SecretsChoice.shape).strict();

export const ConfigImportUploadParamsSchema = ConfigImportParamsSchema.omit({ path: true }).extend({ uploadId: UploadIdSchema }).strict();

export const ConfigImportResultSchema = z.object({
  applied: z.array(z.string()),
  /** Items left as they were, each with why (unchanged, a conflict not chosen, blocked). */
  left: z.array(z.object({ id: z.string(), reason: z.string() })),
  /** This import trusted the exporter's key for the first time. */
  exporterTrusted: z.boolean(),
  /** Operators this import created: they have no password and cannot sign in until an admin sets one. */
  operatorsWithoutPassword: z.array(z.string()),
});
export type ConfigImportResult = z.infer<typeof ConfigImportResultSchema>;

export const ConfigKeysSchema = z.object({
  /** This control center's signing key; null until its first bundle export. */
  own: z.object({ fingerprint: BundleKeyFingerprintSchema, createdAt: z.number().int() }).nullable(),
  trusted: z.array(
    z.object({ fingerprint: BundleKeyFingerprintSchema, label: z.string(), trustedAt: z.number().int(), trustSource: z.string() }),
  ),
});
export type ConfigKeys = z.infer<typeof ConfigKeysSchema>;

export const configBundleMethods = {
  /** Writes the inventory (or one install) as a signed `.sutazai-config` bundle or plain YAML at `path` on the backend's machine. */
  'configBundles.export': {
    params: ConfigExportParamsSchema,
    result: ConfigExportResultSchema,
  },
  /** Checks a configuration file (archive, signature, format) and compares it item by item with this store; changes nothing. */
  'configBundles.review': {
    params: ConfigReviewParamsSchema,
    result: ConfigReviewSchema,
  },
  /** Applies the chosen items of a configuration file in one transaction; trustExporter confirms an exporter not trusted yet. */
  'configBundles.import': {
    params: ConfigImportParamsSchema,
    result: ConfigImportResultSchema,
  },
  /**
   * Web mode's export (no path from a browser): written on the backend and offered once to this
   * session at `url` (GET /download/<id>, within ten minutes); the browser saves it as `fileName`.
   */
  'configBundles.exportDownload': {
    params: ConfigExportDownloadParamsSchema,
    result: ConfigExportResultSchema.omit({ path: true }).extend({ url: z.string(), fileName: z.string() }),
  },
  /**
   * Web mode's review of an uploaded file (POST /upload): as configBundles.review, `path` being the
   * file's name on the uploader's computer. The upload stays held for this session's import.
   */
  'configBundles.reviewUpload': {
    params: ConfigReviewUploadParamsSchema,
    result: ConfigReviewSchema,
  },
  /** Web mode's import of an upload its review read (the same sha256); the upload is removed once imported. */
  'configBundles.importUpload': {
    params: ConfigImportUploadParamsSchema,
    result: ConfigImportResultSchema,
  },
  /** This control center's signing key for exports, and the exporters it trusts. */
  'configBundles.keys': {
    params: z.object({}).strict(),
    result: ConfigKeysSchema,
  },
  /** Stops trusting an exporter: its bundles are untrusted again (shown by fingerprint, confirmed anew). NOT_FOUND when it was not trusted. */
  'configBundles.revokeExporter': {
    params: z.object({ fingerprint: BundleKeyFingerprintSchema }).strict(),
    result: z.object({ revoked: BundleKeyFingerprintSchema, label: z.string() }),
  },
} as const;
