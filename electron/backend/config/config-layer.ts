import type { ConfigPath } from './schema-keys';

/** The layers, lowest first; a higher one overrides a lower one. */
export const LAYER_KINDS = ['defaults', 'environment', 'install', 'host', 'env'] as const;
export type LayerKind = (typeof LAYER_KINDS)[number];

/** Where a value was written: a position in a YAML layer, or an environment variable. */
export interface Origin {
  /** The layer's name as the operator sees it: "defaults", "environment production", "install", ... */
  layer: string;
  kind: LayerKind;
  /** The file (or the in-memory text's name); for kind 'env', the variable's name. */
  file: string;
  /** 1-based; absent for environment variables. */
  line?: number;
  column?: number;
}

/** One layer, parsed: its value and where each part of it was written. */
export interface ParsedLayer {
  layer: string;
  kind: LayerKind;
  /** The file, the in-memory text's name, or the names of the SUTAZAI_* variables it holds. */
  file: string;
  value: Record<string, unknown>;
  /**
   * Where `path` was written in this layer ('key': the key itself, for an unknown key;
   * 'value': its value). A path the layer does not hold points at its nearest ancestor.
   */
  locate(path: ConfigPath, which?: 'key' | 'value'): Origin;
}

/** `file:line:column`, or `environment variable NAME`. */
export function describeOrigin(origin: Origin): string {
  if (origin.kind === 'env') return `environment variable ${origin.file}`;
  return origin.line === undefined ? origin.file : `${origin.file}:${origin.line}:${origin.column ?? 1}`;
}

export function describePath(path: ConfigPath): string {
  return path.length === 0
    ? '(top level)'
    : path
        .map((segment) => (typeof segment === 'number' ? `[${segment}]` : segment))
        .join('.')
        .replace(/\.\[/g, '[');
}

export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
