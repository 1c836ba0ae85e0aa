/**
 * The daemon's own configuration file (not the manifest): where the manifest, the TLS
 * material, the state and the logs live, and where the API listens. YAML, checked with zod;
 * anything wrong is RuntimeError('CONFIG_INVALID') naming `file:line:col: path: why`.
 * Relative paths are resolved against the directory of the config file, so
 * `manifest: manifest.yaml` next to `/etc/sutazai/runtime.yaml` means /etc/sutazai/manifest.yaml.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { DEFAULT_LOG_LIMITS, type LogLimits } from '../logs/log-files';
import { RuntimeError } from '../runtime-error';

export const DEFAULT_LISTEN = '127.0.0.1:7600';
export const DEFAULT_METRICS_LISTEN = '127.0.0.1:9464';

const REMEDY = 'fix the field named in the message (see agents-runtime/config/example-runtime.yaml for every field), then start sutazai-runtime again';

export interface RuntimeConfig {
  /** Absolute path of the config file itself. */
  file: string;
  manifest: string;
  /** host:port of the gRPC API (TLS, client certificates required). */
  listen: string;
  tls: { ca: string; cert: string; key: string };
  /** Holds the state file (intent, pids) and the lock file. */
  stateDir: string;
  logDir: string;
  logs: LogLimits;
  /** Prometheus exposition; null when the config has no `metrics:` section. */
  metrics: { listen: string } | null;
  /** Client certificate for the CLI's own calls (`status`); null when absent. */
  client: { cert: string; key: string } | null;
}

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:7600');
const filePath = z.string().min(1, 'must not be empty');
const bytes = z.number().int().positive();

const configSchema = z.strictObject({
  manifest: filePath,
  listen: hostPort.optional(),
  tls: z.strictObject({ ca: filePath, cert: filePath, key: filePath }),
  state_dir: filePath,
  log_dir: filePath,
  logs: z
    .strictObject({
      max_file_bytes: bytes.optional(),
      keep_files: z.number().int().min(0).max(100).optional(),
      max_total_bytes: bytes.optional(),
    })
    .optional(),
  metrics: z.strictObject({ listen: hostPort.optional() }).nullable().optional(),
  client: z.strictObject({ cert: filePath, key: filePath }).optional(),
});

type PathSegment = string | number;

/** Parses config text; `file` names it in errors and anchors relative paths. */
export function parseRuntimeConfig(text: string, file: string): RuntimeConfig {
  const absolute = path.resolve(file);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const where = (offset: number): string => {
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  const yamlError = doc.errors[0];
  if (yamlError !== undefined) {
    const first = yamlError.message.split('\n')[0] ?? yamlError.code;
    throw new RuntimeError('CONFIG_INVALID', `${where(yamlError.pos[0])}: ${first.replace(/ at line \d+, column \d+:?$/, '')}`, REMEDY);
  }
  const parsed = configSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    const at = [...(issue.path as PathSegment[])];
    let offset = offsetOf(doc, at);
    if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) {
      offset = keyOffset(doc, at, issue.keys[0]) ?? offset;
      at.push(issue.keys[0]);
    }
    const why = issue.code === 'invalid_type' && / received undefined$/.test(issue.message) ? `is required (expected ${issue.expected})` : issue.message;
    throw new RuntimeError('CONFIG_INVALID', `${where(offset)}: ${at.length === 0 ? '(top level)' : at.join('.')}: ${why}`, REMEDY);
  }
  const raw = parsed.data;
  const dir = path.dirname(absolute);
  const resolve = (p: string): string => path.resolve(dir, p);
  return {
    file: absolute,
    manifest: resolve(raw.manifest),
    listen: raw.listen ?? DEFAULT_LISTEN,
    tls: { ca: resolve(raw.tls.ca), cert: resolve(raw.tls.cert), key: resolve(raw.tls.key) },
    stateDir: resolve(raw.state_dir),
    logDir: resolve(raw.log_dir),
    logs: {
      maxFileBytes: raw.logs?.max_file_bytes ?? DEFAULT_LOG_LIMITS.maxFileBytes,
      keepFiles: raw.logs?.keep_files ?? DEFAULT_LOG_LIMITS.keepFiles,
      maxTotalBytes: raw.logs?.max_total_bytes ?? DEFAULT_LOG_LIMITS.maxTotalBytes,
    },
    // `metrics:` present (even empty) turns the exposition on at its default address.
    metrics: raw.metrics === undefined ? null : { listen: raw.metrics?.listen ?? DEFAULT_METRICS_LISTEN },
    client: raw.client === undefined ? null : { cert: resolve(raw.client.cert), key: resolve(raw.client.key) },
  };
}

/** Reads and parses the config file; a missing or unreadable file is CONFIG_INVALID too. */
export function loadRuntimeConfig(file: string): RuntimeConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (cause) {
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

function offsetOf(doc: Document, at: readonly PathSegment[]): number {
  for (let depth = at.length; depth >= 0; depth -= 1) {
    const node = depth === 0 ? doc.contents : doc.getIn(at.slice(0, depth), true);
    if (isNode(node) && node.range) return node.range[0];
  }
  return 0;
}

function keyOffset(doc: Document, at: readonly PathSegment[], key: string): number | undefined {
  const map = at.length === 0 ? doc.contents : doc.getIn(at, true);
  if (!isMap(map)) return undefined;
  const pair = map.items.find((item) => isScalar(item.key) && item.key.value === key);
  return isScalar(pair?.key) ? pair.key.range?.[0] : undefined;
}

function isNode(value: unknown): value is YamlNode {
  return isScalar(value) || isMap(value) || isSeq(value);
}
