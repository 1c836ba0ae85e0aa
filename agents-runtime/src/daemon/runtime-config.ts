/**
 * The daemon's own configuration file (not the manifest): where the manifest, the TLS
 * material, the state and the logs live, and where the API listens. YAML, checked by schema/schema.ts;
 * anything wrong is RuntimeError('CONFIG_INVALID') naming `file:line:col: path: why`.
 * Relative paths are resolved against the directory of the config file, so
 * `manifest: manifest.yaml` next to `/etc/sutazai/runtime.yaml` means /etc/sutazai/manifest.yaml.
 */
import path from 'node:path';
import * as s from '../schema/schema';
import { DEFAULT_AUDIT_LIMITS, type AuditLimits } from '../audit/audit-file';
import { DEFAULT_LOG_LIMITS, type LogLimits } from '../logs/log-files';
import { DEFAULT_MANIFEST_LIMITS, type ManifestLimits } from '../manifest/manifest-schema';
import { RuntimeError } from '../runtime-error';
import { LOG_TIMESTAMPS, type LogTimestamps } from '../wire/config-enums';
import { describeIssue, parseLocatedYaml } from '../yaml/locate-issue';
import { readCappedText, TextTooLargeError } from '../yaml/read-capped-text';
import { toValue, YAML_FILE_LIMITS } from '../yaml/read-yaml';

export const DEFAULT_LISTEN = '127.0.0.1:7600';
export const DEFAULT_METRICS_LISTEN = '127.0.0.1:9464';
export const DEFAULT_API_RETRY_MS = 30_000;

const REMEDY =
  'fix the field named in the message (see agents-runtime/config/example-runtime.yaml for every field), then start sutazai-runtime again';

export interface RuntimeConfig {
  /** Absolute path of the config file itself. */
  file: string;
  manifest: string;
  /** How many processes and instances one manifest may hold (manifest-schema.ts). */
  manifestLimits: ManifestLimits;
  /** host:port of the gRPC API (TLS, client certificates required). */
  listen: string;
  /** How often an API that could not start (bad certificate, port taken) is tried again. */
  apiRetryMs: number;
  tls: { ca: string; cert: string; key: string };
  /** Holds the state file (intent, pids) and the lock file. */
  stateDir: string;
  logDir: string;
  logs: LogLimits;
  /** The audit log's segment size and how many sealed segments are kept (audit/audit-file.ts). */
  audit: AuditLimits;
  /** How log lines get their timestamps (process-driver.ts); default 'auto'. */
  logTimestamps: LogTimestamps;
  /** Prometheus exposition; null when the config has no `metrics:` section. */
  metrics: { listen: string } | null;
  /** Client certificate for the CLI's own calls (`status`); null when absent. */
  client: { cert: string; key: string } | null;
}

const hostPort = s.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:7600');
const filePath = s.string().min(1, 'must not be empty');
const bytes = s.number().int().positive();

const configSchema = s.object({
  manifest: filePath,
  manifest_limits: s
    .object({
      max_processes: s.number().int().min(1).max(10_000).optional(),
      max_instances: s.number().int().min(1).max(100_000).optional(),
    })
    .optional(),
  listen: hostPort.optional(),
  api_retry_ms: s.number().int().min(100).max(3_600_000).optional(),
  tls: s.object({ ca: filePath, cert: filePath, key: filePath }),
  state_dir: filePath,
  log_dir: filePath,
  logs: s
    .object({
      max_file_bytes: bytes.optional(),
      keep_files: s.number().int().min(0).max(100).optional(),
      max_total_bytes: bytes.optional(),
      timestamps: s.oneOf(LOG_TIMESTAMPS).optional(),
    })
    .optional(),
  audit: s
    .object({
      // At least one entry fits (a few hundred bytes); at most 64 MiB, so a segment can be read as one string (verify).
      max_file_bytes: s
        .number()
        .int()
        .min(4096)
        .max(64 * 1024 * 1024)
        .optional(),
      keep_files: s.number().int().min(0).max(1000).optional(),
    })
    .optional(),
  metrics: s.object({ listen: hostPort.optional() }).nullable().optional(),
  client: s.object({ cert: filePath, key: filePath }).optional(),
});

/** Parses config text; `file` names it in errors and anchors relative paths. */
export function parseRuntimeConfig(text: string, file: string): RuntimeConfig {
  const absolute = path.resolve(file);
  const yaml = parseLocatedYaml(text, file);
  if (yaml.syntaxError !== undefined) throw new RuntimeError('CONFIG_INVALID', yaml.syntaxError, REMEDY);
  const parsed = configSchema.safeParse(toValue(yaml.doc) ?? {});
  if (!parsed.success) throw new RuntimeError('CONFIG_INVALID', describeIssue(yaml, parsed.error.issues[0]!), REMEDY);
  const raw = parsed.data;
  const dir = path.dirname(absolute);
  const resolve = (p: string): string => path.resolve(dir, p);
  return {
    file: absolute,
    manifest: resolve(raw.manifest),
    manifestLimits: {
      maxProcesses: raw.manifest_limits?.max_processes ?? DEFAULT_MANIFEST_LIMITS.maxProcesses,
      maxInstances: raw.manifest_limits?.max_instances ?? DEFAULT_MANIFEST_LIMITS.maxInstances,
    },
    listen: raw.listen ?? DEFAULT_LISTEN,
    apiRetryMs: raw.api_retry_ms ?? DEFAULT_API_RETRY_MS,
    tls: { ca: resolve(raw.tls.ca), cert: resolve(raw.tls.cert), key: resolve(raw.tls.key) },
    stateDir: resolve(raw.state_dir),
    logDir: resolve(raw.log_dir),
    logs: {
      maxFileBytes: raw.logs?.max_file_bytes ?? DEFAULT_LOG_LIMITS.maxFileBytes,
      keepFiles: raw.logs?.keep_files ?? DEFAULT_LOG_LIMITS.keepFiles,
      maxTotalBytes: raw.logs?.max_total_bytes ?? DEFAULT_LOG_LIMITS.maxTotalBytes,
    },
    audit: {
      maxFileBytes: raw.audit?.max_file_bytes ?? DEFAULT_AUDIT_LIMITS.maxFileBytes,
      keepFiles: raw.audit?.keep_files ?? DEFAULT_AUDIT_LIMITS.keepFiles,
    },
    logTimestamps: raw.logs?.timestamps ?? 'auto',
    // `metrics:` present (even empty) turns the exposition on at its default address.
    metrics: raw.metrics === undefined ? null : { listen: raw.metrics?.listen ?? DEFAULT_METRICS_LISTEN },
    client: raw.client === undefined ? null : { cert: resolve(raw.client.cert), key: resolve(raw.client.key) },
  };
}

/** Reads and parses the config file; a missing or unreadable file is CONFIG_INVALID too. */
export function loadRuntimeConfig(file: string): RuntimeConfig {
  let text: string;
  try {
    text = readCappedText(file, YAML_FILE_LIMITS.maxBytes);
  } catch (cause) {
    if (cause instanceof TextTooLargeError)
      throw new RuntimeError('CONFIG_INVALID', `the runtime config ${path.resolve(file)} ${cause.message}`, REMEDY);
    const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
    throw new RuntimeError(
      'CONFIG_INVALID',
      `cannot read the runtime config ${path.resolve(file)} (${code})`,
      'pass the path of an existing config with --config (see agents-runtime/config/example-runtime.yaml) and check its permissions',
      { cause },
    );
  }
  return parseRuntimeConfig(text, file);
}
