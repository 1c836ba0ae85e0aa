/** One key of a merged configuration and its value, for the merged-values view. */
export interface ConfigLeaf {
  /** Dotted path, e.g. runtime.logs.keep_files. */
  key: string;
  /** The top-level section it belongs to (the key itself for a top-level value). */
  section: string;
  value: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Every single value of a configuration, in the order its keys come (the shipped
 * defaults' order, since the merge starts from them). Lists are one value, as they merge.
 */
export function configLeaves(config: Record<string, unknown>): ConfigLeaf[] {
  const leaves: ConfigLeaf[] = [];
  const walk = (value: unknown, path: string[]): void => {
    if (isRecord(value) && Object.keys(value).length > 0) {
      for (const [key, inner] of Object.entries(value)) walk(inner, [...path, key]);
      return;
    }
    leaves.push({ key: path.join('.'), section: path[0] ?? '', value });
  };
  for (const [key, value] of Object.entries(config)) walk(value, [key]);
  return leaves;
}
