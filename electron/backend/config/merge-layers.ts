import { isPlainRecord, type Origin, type ParsedLayer } from './config-layer';

/** A value one layer gave a key. */
export interface Setting {
  origin: Origin;
  value: unknown;
}

export interface MergedLayers {
  value: Record<string, unknown>;
  /**
   * For every leaf key (dotted path): each layer that set it, lowest first. The last
   * one won; the ones before it were overridden.
   */
  settings: Map<string, Setting[]>;
  /** For every map (dotted path): the layers that wrote into it, lowest first. */
  maps: Map<string, Origin[]>;
}

/**
 * The merge rule: maps merge key by key, at any depth; anything else (a scalar, a list,
 * null) replaces what lower layers had there, whole. Lists replace rather than append so
 * that a higher layer can shorten one.
 */
export function mergeLayers(layers: readonly ParsedLayer[]): MergedLayers {
  const merged: MergedLayers = { value: {}, settings: new Map(), maps: new Map() };
  for (const layer of layers) mergeMap(merged, merged.value, layer.value, [], layer);
  return merged;
}

function mergeMap(
  merged: MergedLayers,
  target: Record<string, unknown>,
  source: Record<string, unknown>,
  path: string[],
  layer: ParsedLayer,
): void {
  const mapKey = path.join('.');
  merged.maps.set(mapKey, [...(merged.maps.get(mapKey) ?? []), layer.locate(path)]);
  for (const [key, value] of Object.entries(source)) {
    const at = [...path, key];
    const dotted = at.join('.');
    if (isPlainRecord(value)) {
      if (!isPlainRecord(target[key])) {
        forgetBelow(merged, dotted);
        target[key] = {};
      }
      mergeMap(merged, target[key] as Record<string, unknown>, value, at, layer);
    } else {
      if (isPlainRecord(target[key])) forgetBelow(merged, dotted);
      target[key] = structuredClone(value);
      merged.settings.set(dotted, [...(merged.settings.get(dotted) ?? []), { origin: layer.locate(at), value: structuredClone(value) }]);
    }
  }
}

/** A value that replaced a map (or a map that replaced a value) ends what was there before. */
function forgetBelow(merged: MergedLayers, dotted: string): void {
  for (const table of [merged.settings, merged.maps] as Array<Map<string, unknown>>) {
    for (const key of [...table.keys()]) if (key === dotted || key.startsWith(`${dotted}.`)) table.delete(key);
  }
}
