import { z } from 'zod';
import { HostIdSchema } from './hosts';
import { InstallNameSchema } from './installs';

/**
 * Support bundles (issue 15, item 4): what a vendor needs to diagnose a site, collected
 * for an install or a host into one archive with a manifest, every secret redacted before
 * anything is written. Collect first (held by the backend, never written), review the
 * preview of every redaction, add rules, then save; analyze an archive offline.
 */

/** What to collect: every host of an install, or one host (with its install, when it has one). */
export const SupportTargetSchema = z.union([
  z.object({ install: InstallNameSchema }).strict(),
  z.object({ hostId: HostIdSchema }).strict(),
]);
export type SupportTarget = z.infer<typeof SupportTargetSchema>;

/** The most of each instance's log kept, from its end; default 1 MiB. */
export const DEFAULT_LOG_BYTES_PER_PROCESS = 1024 * 1024;
export const MAX_LOG_BYTES_PER_PROCESS = 64 * 1024 * 1024;

export const SupportCollectParamsSchema = z
  .object({
    target: SupportTargetSchema,
    logBytesPerProcess: z.number().int().min(1024).max(MAX_LOG_BYTES_PER_PROCESS).default(DEFAULT_LOG_BYTES_PER_PROCESS),
  })
  .strict();

/**
 * A rule the operator adds after reading the preview: `pattern` as plain text is replaced
 * wherever it appears; as a regular expression (linear-time syntax, as log search), every
 * line it matches is replaced whole, so no pattern can stall the backend finding where.
 */
export const SupportRuleSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a rule name: letters, digits, ".", "_" or "-"')
      .refine((name) => !name.startsWith('built-in'), 'names starting with "built-in" are the app\'s own'),
    pattern: z.string().min(1).max(1000),
    regex: z.boolean().default(false),
    ignoreCase: z.boolean().default(false),
  })
  .strict();
export type SupportRule = z.output<typeof SupportRuleSchema>;

export const SupportRedactionOptionsSchema = z
  .object({
    /** IPv4 and IPv6 addresses, each replaced by the same `ip-N` wherever it appears. */
    addresses: z.boolean().default(false),
    /** The inventory's host names and addresses (and the names the hosts report), each by the same `host-N`. */
    hostNames: z.boolean().default(false),
    rules: z.array(SupportRuleSchema).max(50).default([]),
  })
  .strict();
export type SupportRedactionOptions = z.output<typeof SupportRedactionOptionsSchema>;

/** One replaced piece of text. `masked` shows its first characters at most, never the secret whole. */
export const SupportRedactionSchema = z.object({
  file: z.string(),
  /** 1-based line where the replaced text starts. */
  line: z.number().int().positive(),
  rule: z.string(),
  masked: z.string(),
  replacement: z.string(),
});
export type SupportRedaction = z.infer<typeof SupportRedactionSchema>;

/** The most redactions a preview lists; the counts by rule are always whole. */
export const MAX_LISTED_REDACTIONS = 2000;

export const SupportPreviewSchema = z.object({
  previewId: z.string(),
  /** The install or host collected, by name. */
  targetName: z.string(),
  collectedAtMs: z.number().int(),
  files: z.array(z.object({ path: z.string(), bytes: z.number().int().nonnegative() })),
  redactions: z.array(SupportRedactionSchema),
  /** Redactions left out of `redactions` (over MAX_LISTED_REDACTIONS). */
  omittedRedactions: z.number().int().nonnegative(),
  countsByRule: z.record(z.string(), z.number().int().nonnegative()),
  /** What could not be collected (a host offline, a log unreadable), in words; the bundle says so too. */
  gaps: z.array(z.string()),
});
export type SupportPreview = z.infer<typeof SupportPreviewSchema>;

export const SupportSavedSchema = z.object({
  path: z.string(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string(),
  files: z.number().int().nonnegative(),
  redactions: z.number().int().nonnegative(),
});
export type SupportSaved = z.infer<typeof SupportSavedSchema>;

/** A bundle written for a browser to download (web mode): served once, at `url`, to the session that asked. */
export const SupportDownloadSchema = SupportSavedSchema.omit({ path: true }).extend({
  /** Same origin, e.g. `/download/<id>`; the session's cookie (team) or the launch token (X-SutazAI-Token header) goes with it. */
  url: z.string(),
  /** The name the browser saves it under. */
  fileName: z.string(),
});
export type SupportDownload = z.infer<typeof SupportDownloadSchema>;

export const SupportFindingSchema = z.object({
  analyzer: z.string(),
  severity: z.enum(['critical', 'warning', 'info']),
  /** One sentence: what was found, naming the host and process. */
  summary: z.string(),
  /** Evidence: a process's last lines, the filesystem's figures. */
  details: z.array(z.string()),
  remedy: z.string(),
});
export type SupportFinding = z.infer<typeof SupportFindingSchema>;

export const SupportAnalysisSchema = z.object({
  path: z.string(),
  targetName: z.string(),
  collectedAtMs: z.number().int(),
  versions: z.record(z.string(), z.string()),
  findings: z.array(SupportFindingSchema),
});
export type SupportAnalysis = z.infer<typeof SupportAnalysisSchema>;

const FilePathSchema = z.string().min(1).max(4096);

export const supportMethods = {
  /** Collects a support bundle's contents (held by the backend for a while, never written) and previews the built-in redactions. */
  'support.collect': {
    params: SupportCollectParamsSchema,
    result: SupportPreviewSchema,
  },
  /** The same collection with other redaction options and rules: every redaction listed, nothing written. */
  'support.preview': {
    params: z.object({ previewId: z.string().min(1).max(64), redaction: SupportRedactionOptionsSchema }).strict(),
    result: SupportPreviewSchema,
  },
  /** Writes the collection, redacted with these options, as a .tar archive at `path` (on the backend's machine); an existing file is refused. */
  'support.save': {
    params: z.object({ previewId: z.string().min(1).max(64), redaction: SupportRedactionOptionsSchema, path: FilePathSchema }).strict(),
    result: SupportSavedSchema,
  },
  /**
   * The same archive for the browser (web mode, where no path on the backend's machine may be
   * named): kept by the backend and served once, at the answer's url, to the session that asked.
   */
  'support.download': {
    params: z.object({ previewId: z.string().min(1).max(64), redaction: SupportRedactionOptionsSchema }).strict(),
    result: SupportDownloadSchema,
  },
  /** Reads a support bundle (from this or any site) and reports findings with remedies; needs no host. */
  'support.analyze': {
    params: z.object({ path: FilePathSchema }).strict(),
    result: SupportAnalysisSchema,
  },
  /**
   * Analyzes a bundle the browser uploaded (web mode: POST /upload answers its id, for this
   * session only, once); the same findings as support.analyze. The upload is removed after.
   */
  'support.analyzeUpload': {
    params: z.object({ uploadId: z.string().min(1).max(64) }).strict(),
    result: SupportAnalysisSchema,
  },
} as const;
