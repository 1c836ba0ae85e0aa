import { z } from 'zod';
import type { MethodName } from './api';
import { ApiErrorBodySchema } from './errors';
import { INSTALL_STEPS, InstallStepNameSchema, ROLLBACK_STEPS, UNINSTALL_STEPS } from './installs';

/**
 * Installs run from an install file and answered when they end (the CLI's plan, apply,
 * rollback and uninstall), as opposed to the jobs the app starts and follows: the caller
 * waits for the result, and follows the run through installs.runProgress events tagged
 * with a progress id it chose (subscribe first, then call with the same id).
 */

/** An install file on the backend's machine (a relative path is taken from its working directory), or its text. */
export const InstallFileRefSchema = z.union([
  z.object({ path: z.string().min(1).max(4096) }).strict(),
  z
    .object({
      text: z.string().max(512 * 1024),
      /** Named in messages (file:line:column); relative paths in the text are taken from its folder. */
      fileName: z.string().min(1).max(4096),
    })
    .strict(),
]);
export type InstallFileRef = z.infer<typeof InstallFileRefSchema>;

/** Chosen by the caller, so it can subscribe to a run's progress before the run starts. */
export const ProgressIdSchema = z.string().min(1).max(64);

const StepOutcomeSchema = z.enum(['running', 'done', 'already-done', 'failed', 'skipped']);
const FinalStepOutcomeSchema = z.enum(['done', 'already-done', 'failed', 'skipped']);
const HostOutcomeSchema = z.enum(['installed', 'unchanged', 'failed']);

/** One thing that happened on one host during a run (the engine's InstallEvent). */
export const InstallRunEventSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('step'), host: z.string(), step: InstallStepNameSchema, status: StepOutcomeSchema, detail: z.string() }),
  z.object({
    kind: z.literal('upload'),
    host: z.string(),
    bytesOnHost: z.number().nonnegative(),
    totalBytes: z.number().nonnegative(),
    resumedFrom: z.number().nonnegative(),
    bytesSent: z.number().nonnegative(),
  }),
  z.object({ kind: z.literal('host'), host: z.string(), outcome: HostOutcomeSchema, error: ApiErrorBodySchema.nullable() }),
  /** A host being brought back to a kept release: `auto-rollback` in an apply, `rollback` on request. */
  z.object({
    kind: z.literal('activate'),
    host: z.string(),
    purpose: z.enum(['auto-rollback', 'rollback']),
    version: z.string(),
    step: z.enum(ROLLBACK_STEPS),
    status: StepOutcomeSchema,
    detail: z.string(),
  }),
  z.object({
    kind: z.literal('uninstall'),
    host: z.string(),
    step: z.enum(UNINSTALL_STEPS),
    status: StepOutcomeSchema,
    detail: z.string(),
  }),
]);
export type InstallRunEvent = z.infer<typeof InstallRunEventSchema>;

export const InstallRunProgressSchema = z.object({ progressId: ProgressIdSchema, event: InstallRunEventSchema });
export type InstallRunProgress = z.infer<typeof InstallRunProgressSchema>;

export const ApplyResultSchema = z.object({
  install: z.string(),
  bundle: z.object({ name: z.string(), version: z.string() }),
  /** No host changed: every step of every host was already done. */
  unchanged: z.boolean(),
  hosts: z.array(
    z.object({
      host: z.string(),
      outcome: HostOutcomeSchema,
      steps: z.array(z.object({ step: z.enum(INSTALL_STEPS), status: FinalStepOutcomeSchema, detail: z.string() })),
      upload: z.object({ resumedFrom: z.number().nonnegative(), bytesSent: z.number().nonnegative() }).nullable(),
      error: ApiErrorBodySchema.nullable(),
    }),
  ),
});
export type ApplyResult = z.infer<typeof ApplyResultSchema>;

export const RollbackResultSchema = z.object({
  install: z.string(),
  hosts: z.array(
    z.object({
      host: z.string(),
      /** The release that was current before, and the one asked for; null where the host was not reached. */
      from: z.string().nullable(),
      to: z.string().nullable(),
      outcome: z.enum(['rolled-back', 'unchanged', 'returned', 'failed', 'stopped']),
      /** What runs now, as the runtime reported it; null when it was not asked. */
      health: z.string().nullable(),
      error: ApiErrorBodySchema.nullable(),
    }),
  ),
});
export type RollbackResult = z.infer<typeof RollbackResultSchema>;

export const UninstallResultSchema = z.object({
  install: z.string(),
  hosts: z.array(
    z.object({
      host: z.string(),
      outcome: z.enum(['removed', 'failed']),
      /** The paths removed from the host, as the install had recorded them. */
      removed: z.array(z.string()),
      error: ApiErrorBodySchema.nullable(),
    }),
  ),
  /** True when no host is left: the install's record and its CA key are gone too. */
  installRemoved: z.boolean(),
});
export type UninstallResult = z.infer<typeof UninstallResultSchema>;

/**
 * Methods that name files on the backend's own machine (a host list, an install file and the
 * bundle paths inside it). Only a caller in the backend's process (the CLI) may use them: a
 * window's page is the least trusted party, and must never turn the backend into a reader of
 * the operator's files. Pages send a file's text instead (hosts.import, installs.start).
 */
// Typed by the contract's method names, so renaming a method cannot silently drop it from the guard.
export const LOCAL_FILE_METHODS: ReadonlySet<string> = new Set<MethodName>([
  'hosts.importFile',
  'installs.planFile',
  'installs.applyFile',
  'installs.rollbackFile',
  'installs.uninstallFile',
  // Writes the backup to a path on the backend's machine.
  'store.backup',
]);

/**
 * Methods whose page names a file on the backend's machine (save a support bundle there,
 * analyze one from there). A page may name such a path only over the desktop app's own pipe,
 * where the person at the window sits at that machine and the path is on their own disk; the
 * command line may too. Never from web mode (the loopback token or a team's sign-in): the
 * browser's person is elsewhere, and the backend must not become a reader or writer of its
 * machine's files for them. Web mode moves files through the page instead: a download the
 * backend serves once to the same session (support.download), an upload of the file's bytes.
 * The rule for all such methods: /work/notes/local-file-rule.md (session 8).
 */
export const PAGE_PATH_METHODS: ReadonlySet<string> = new Set<MethodName>([
  'support.save',
  'support.analyze',
  // Web mode: configBundles.exportDownload, reviewUpload, importUpload.
  'configBundles.export',
  'configBundles.review',
  'configBundles.import',
  // Web mode: bundles.verifyUpload, importUpload (a release bundle uploaded by the page).
  'bundles.verify',
  'bundles.import',
]);
