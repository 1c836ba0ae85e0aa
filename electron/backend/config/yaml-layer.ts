import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { ConfigError } from './config-error';
import { isPlainRecord, type LayerKind, type Origin, type ParsedLayer } from './config-layer';
import type { ConfigPath } from './schema-keys';

interface Spot {
  key: number;
  value: number;
}

const SYNTAX_REMEDY = 'Fix the YAML at that line and column: indent with spaces, and give every indented block a `key:` line of its own above it.';

/**
 * Parses one YAML layer, keeping the offset of every key and value so that any later
 * error, even one found only after the layers are merged, can name file:line:column.
 */
export function parseYamlLayer(text: string, source: { layer: string; kind: LayerKind; file: string }): ParsedLayer {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const originAt = (offset: number): Origin => {
    const { line, col } = lineCounter.linePos(offset);
    return { layer: source.layer, kind: source.kind, file: source.file, line, column: col };
  };

  const error = doc.errors[0];
  if (error) {
    const origin = originAt(error.pos[0]);
    const what = (error.message.split('\n')[0] ?? error.code).replace(/ at line \d+, column \d+:?$/, '');
    const hint = ['BLOCK_AS_IMPLICIT_KEY', 'MULTILINE_IMPLICIT_KEY'].includes(error.code) ? orphanBlockHint(text, origin.line!) : '';
    throw new ConfigError('CONFIG_YAML_INVALID', `${origin.file}:${origin.line}:${origin.column}: ${what}.${hint}`, SYNTAX_REMEDY, { origin });
  }

  const value: unknown = doc.toJS() ?? {};
  if (!isPlainRecord(value)) {
    const origin = originAt(doc.contents?.range?.[0] ?? 0);
    throw new ConfigError(
      'CONFIG_INVALID',
      `${origin.file}:${origin.line}:${origin.column}: the top level must be keys such as install: or runtime:, not ${Array.isArray(value) ? 'a list' : 'a single value'}.`,
      'Write the layer as a YAML mapping; config/defaults.yaml shows every key.',
      { origin },
    );
  }

  const spots = new Map<string, Spot>();
  recordSpots(doc.contents, [], spots);
  return {
    ...source,
    value,
    locate(path: ConfigPath, which: 'key' | 'value' = 'value'): Origin {
      for (let depth = path.length; depth > 0; depth--) {
        const spot = spots.get(JSON.stringify(path.slice(0, depth)));
        if (spot) return originAt(which === 'key' && depth === path.length ? spot.key : spot.value);
      }
      return originAt(doc.contents?.range?.[0] ?? 0);
    },
  };
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
