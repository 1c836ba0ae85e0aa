import { randomUUID } from 'node:crypto';
import path from 'node:path';
import {
  MAX_LISTED_REDACTIONS,
  type SupportAnalysis,
  type SupportPreview,
  type SupportRedaction,
  type SupportRedactionOptions,
  type SupportSaved,
  type SupportTarget,
} from '../../../contract';
import { Redactor, redactionPlan, type RedactedFile } from './redact';
import { analyzeSupportBundle } from './support-analyzers';
import { readSupportArchive, writeSupportArchive } from './support-archive';
import { collectSupport, type Collection, type SupportSources } from './support-collect';
import { MAX_HELD_PREVIEWS, PREVIEW_KEEP_MINUTES, supportPreviewExpiredError } from './support-errors';

export interface SupportService {
  /** Collects and holds the contents (never written unredacted); the preview with the built-in rules. */
  /** `operator`: the signed-in operator the runtimes' log reads are made for (their token); none before operators exist. */
  collect(target: SupportTarget, options: { logBytesPerProcess: number; operator?: string | null }): Promise<SupportPreview>;
  /** The held collection redacted with these options: every redaction, nothing written. */
  preview(previewId: string, redaction: SupportRedactionOptions): SupportPreview;
  /** The held collection redacted with these options, written as an archive at `file`. */
  save(previewId: string, redaction: SupportRedactionOptions, file: string): Promise<SupportSaved>;
  analyze(file: string): Promise<SupportAnalysis>;
}

export interface SupportServiceDeps extends SupportSources {
  /** The vault's secrets in clear (SECRETS_LOCKED while it is locked and holds any): each is replaced wherever it appears. */
  vaultSecrets(): string[];
}

const DEFAULT_REDACTION: SupportRedactionOptions = { addresses: false, hostNames: false, rules: [] };

export function createSupportService(deps: SupportServiceDeps): SupportService {
  const held = new Map<string, { collection: Collection; heldAtMs: number }>();

  function collectionOf(previewId: string): Collection {
    const keepMs = PREVIEW_KEEP_MINUTES * 60_000;
    for (const [id, entry] of held) if (deps.now() - entry.heldAtMs > keepMs) held.delete(id);
    const entry = held.get(previewId);
    if (!entry) throw supportPreviewExpiredError(previewId);
    return entry.collection;
  }

  /** Redacts every file and the paths (host names in them) with one redactor, so stand-ins agree across files. */
  function redact(collection: Collection, options: SupportRedactionOptions): { files: RedactedFile[]; redactor: Redactor } {
    const redactor = new Redactor(
      redactionPlan({
        addresses: options.addresses,
        hostNames: options.hostNames ? collection.hostNames : null,
        vaultSecrets: deps.vaultSecrets(),
        rules: options.rules,
      }),
    );
    const files = collection.files.map((file) => {
      const renamed = file.path
        .split('/')
        .map((part) => redactor.standIn(part))
        .join('/');
      return redactor.redact(renamed, file.text);
    });
    return { files, redactor };
  }

  function previewOf(previewId: string, collection: Collection, options: SupportRedactionOptions): SupportPreview {
    const { files, redactor } = redact(collection, options);
    const all = files.flatMap((f) => f.redactions);
    return {
      previewId,
      targetName: redactor.standIn(collection.targetName),
      collectedAtMs: collection.collectedAtMs,
      files: files.map((f) => ({ path: f.path, bytes: Buffer.byteLength(f.text) })),
      redactions: all.slice(0, MAX_LISTED_REDACTIONS),
      omittedRedactions: Math.max(0, all.length - MAX_LISTED_REDACTIONS),
      countsByRule: countsByRule(all),
      gaps: redactedGaps(collection, redactor),
    };
  }

  return {
    async collect(target, options) {
      const collection = await collectSupport(deps, target, options);
      const previewId = randomUUID();
      held.set(previewId, { collection, heldAtMs: deps.now() });
      // The oldest go first: each holds up to its logs' size in memory.
      while (held.size > MAX_HELD_PREVIEWS) held.delete(held.keys().next().value!);
      return previewOf(previewId, collection, DEFAULT_REDACTION);
    },
    preview(previewId, redaction) {
      return previewOf(previewId, collectionOf(previewId), redaction);
    },
    async save(previewId, redaction, file) {
      const collection = collectionOf(previewId);
      const { files, redactor } = redact(collection, redaction);
      const all = files.flatMap((f) => f.redactions);
      const target = path.resolve(file);
      const written = await writeSupportArchive(
        target,
        {
          targetName: redactor.standIn(collection.targetName),
          collectedAtMs: collection.collectedAtMs,
          // A runtime's version is keyed by its host's name: the host's stand-in when names are replaced.
          versions: Object.fromEntries(
            Object.entries(collection.versions).map(([key, value]) => [
              key.replace(/@(.+)$/, (_, host: string) => `@${redactor.standIn(host)}`),
              value,
            ]),
          ),
          redaction: {
            addresses: redaction.addresses,
            hostNames: redaction.hostNames,
            rules: redaction.rules.map((r) => r.name),
            countsByRule: countsByRule(all),
          },
          gaps: redactedGaps(collection, redactor),
        },
        files,
      );
      return { path: target, bytes: written.bytes, sha256: written.sha256, files: files.length, redactions: all.length };
    },
    analyze: analyzeSupportFile,
  };
}

/** Reads a bundle and runs every analyzer over it; needs no store and no host (the CLI runs it without a backend). */
export async function analyzeSupportFile(file: string): Promise<SupportAnalysis> {
  const target = path.resolve(file);
  const bundle = await readSupportArchive(target);
  return {
    path: target,
    targetName: bundle.manifest.targetName,
    collectedAtMs: bundle.manifest.collectedAtMs,
    versions: bundle.manifest.versions,
    findings: analyzeSupportBundle(bundle),
  };
}

/** The gaps name hosts and quote errors: redacted like the files, the same in the preview as in the manifest. */
function redactedGaps(collection: Collection, redactor: Redactor): string[] {
  return collection.gaps.map((gap) => redactor.redact('manifest.json', gap).text);
}

function countsByRule(redactions: readonly SupportRedaction[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of redactions) counts[r.rule] = (counts[r.rule] ?? 0) + 1;
  return counts;
}
