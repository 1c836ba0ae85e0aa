import { isMap, isScalar, isSeq, type Node as YamlNode } from 'yaml';
import { parseLocatedYaml, positionsFrom, toValue, YAML_FILE_LIMITS } from '../../../agents-runtime/src/wire';
import { ConfigError } from './config-error';
import { isPlainRecord, type LayerKind, type Origin, type ParsedLayer } from './config-layer';
import type { ConfigPath } from './schema-keys';

interface Spot {
  key: number;
  value: number;
}

export interface LayerSource {
  layer: string;
  kind: LayerKind;
  file: string;
}

/**
 * A YAML layer read into plain data that can cross to another thread (a worker parses
 * what a client sent): its value, the offset of every key and value, and where each line
 * starts, so that `layerFromData` can name file:line:column for any later error.
 */
export interface YamlLayerData {
  source: LayerSource;
  value: Record<string, unknown>;
  spots: Map<string, Spot>;
  lineStarts: number[];
}

/** A ConfigError as plain data (a worker cannot post the class). */
export interface ConfigErrorData {
  code: ConfigError['code'];
  message: string;
  remedy: string;
  origin: Origin | undefined;
  key: string | undefined;
}

export type YamlLayerOutcome = { ok: true; data: YamlLayerData } | { ok: false; error: ConfigErrorData };

const SYNTAX_REMEDY =
  'Fix the YAML at that line and column: indent with spaces, and give every indented block a `key:` line of its own above it.';
export const YAML_LIMITS_REMEDY = `Keep a configuration file under ${YAML_FILE_LIMITS.maxBytes / 1024 / 1024} MiB, ${YAML_FILE_LIMITS.maxNodes} keys and list items and ${YAML_FILE_LIMITS.maxDepth} levels of nesting, counting what its aliases expand to; config/defaults.yaml shows every key there is.`;

/**
 * Parses one YAML layer, keeping the offset of every key and value so that any later
 * error, even one found only after the layers are merged, can name file:line:column.
 */
export function parseYamlLayer(text: string, source: LayerSource): ParsedLayer {
  return layerFromOutcome(readYamlLayerData(text, source));
}

/** The layer, or its ConfigError thrown. */
export function layerFromOutcome(outcome: YamlLayerOutcome): ParsedLayer {
  if (!outcome.ok) {
    const { code, message, remedy, origin, key } = outcome.error;
    throw new ConfigError(code, message, remedy, { ...(origin ? { origin } : {}), ...(key !== undefined ? { key } : {}) });
  }
  const { source, value, spots, lineStarts } = outcome.data;
  const originAt = originsOf(source, lineStarts);
  return {
    ...source,
    value,
    locate(path: ConfigPath, which: 'key' | 'value' = 'value'): Origin {
      for (let depth = path.length; depth > 0; depth--) {
        const spot = spots.get(JSON.stringify(path.slice(0, depth)));
        if (spot) return originAt(which === 'key' && depth === path.length ? spot.key : spot.value);
      }
      return originAt(spots.get('[]')?.value ?? 0);
    },
  };
}

/** Reads a layer into plain data, within the YAML limits; never throws for bad text. */
export function readYamlLayerData(text: string, source: LayerSource): YamlLayerOutcome {
  const yaml = parseLocatedYaml(text, source.file, YAML_FILE_LIMITS);
  const originAt = originsOf(source, yaml.lineStarts);
  const fail = (code: ConfigError['code'], offset: number, message: string, remedy: string): YamlLayerOutcome => {
    const origin = originAt(offset);
    return {
      ok: false,
      error: { code, message: `${origin.file}:${origin.line}:${origin.column}: ${message}`, remedy, origin, key: undefined },
    };
  };

  if (yaml.doc === undefined) {
    const { problem } = yaml;
    const at = problem?.offset ?? 0;
    const what = problem?.message ?? 'unreadable YAML';
    if (problem?.limit) return fail('CONFIG_YAML_INVALID', at, `${what}.`, YAML_LIMITS_REMEDY);
    const hint = ['BLOCK_AS_IMPLICIT_KEY', 'MULTILINE_IMPLICIT_KEY'].includes(problem?.code ?? '')
      ? orphanBlockHint(text, originAt(at).line!)
      : '';
    return fail('CONFIG_YAML_INVALID', at, `${what}.${hint}`, SYNTAX_REMEDY);
  }

  const { doc } = yaml;
  const value: unknown = toValue(doc) ?? {};
  if (!isPlainRecord(value)) {
    return fail(
      'CONFIG_INVALID',
      doc.contents?.range?.[0] ?? 0,
      `the top level must be keys such as install: or runtime:, not ${Array.isArray(value) ? 'a list' : 'a single value'}.`,
      'Write the layer as a YAML mapping; config/defaults.yaml shows every key.',
    );
  }

  const spots = new Map<string, Spot>();
  const top = doc.contents?.range?.[0] ?? 0;
  spots.set('[]', { key: top, value: top });
  recordSpots(doc.contents, [], spots);
  return { ok: true, data: { source, value, spots, lineStarts: [...yaml.lineStarts] } };
}

function originsOf(source: LayerSource, lineStarts: readonly number[]): (offset: number) => Origin {
  const position = positionsFrom(lineStarts);
  return (offset) => ({ layer: source.layer, kind: source.kind, file: source.file, ...position(offset) });
}

function recordSpots(node: unknown, path: Array<string | number>, spots: Map<string, Spot>): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const keyNode = pair.key as YamlNode | null;
      const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      const keyOffset = keyNode?.range?.[0] ?? 0;
      const valueNode = pair.value as YamlNode | null;
      // `key:` with nothing after it has no value node worth pointing at: use the key.
      const valueOffset = valueNode?.range && !(isScalar(valueNode) && valueNode.value === null) ? valueNode.range[0] : keyOffset;
      const at = [...path, key];
      spots.set(JSON.stringify(at), { key: keyOffset, value: valueOffset });
      recordSpots(valueNode, at, spots);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => {
      const offset = (item as YamlNode | null)?.range?.[0];
      if (offset === undefined) return;
      const at = [...path, index];
      spots.set(JSON.stringify(at), { key: offset, value: offset });
      recordSpots(item, at, spots);
    });
  }
}

/**
 * The classic slip (the System Integration Guide's own sample has it): a block indented
 * under a `key: value` line, because the `key:` line that should open it is missing.
 */
function orphanBlockHint(text: string, errorLine: number): string {
  const lines = text.split(/\r?\n/);
  const indent = (line: string) => line.length - line.trimStart().length;
  const base = indent(lines[errorLine - 1] ?? '');
  for (let i = errorLine; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    if (indent(line) <= base) return '';
    return ` Line ${i + 1} is indented deeper than line ${errorLine}, which already has a value: is the \`key:\` line that should open line ${i + 1}'s block missing?`;
  }
  return '';
}
