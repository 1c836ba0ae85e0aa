import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { closestMatch } from './closest-match';
import { ConfigError } from './config-error';
import { isPlainRecord, type Origin, type ParsedLayer } from './config-layer';
import { keysAt, type ConfigPath } from './schema-keys';

export const ENV_PREFIX = 'SUTAZAI_';
const LAYER = 'environment variables';
const REMEDY_NAMES =
  'Name a key as SUTAZAI_<SECTION>__<KEY> (double underscore between levels), e.g. SUTAZAI_RUNTIME__GRPC_PORT; config/defaults.yaml lists every key. Or unset the variable.';

/**
 * The key a variable sets: `SUTAZAI_RUNTIME__GRPC_PORT` -> runtime.grpc_port (a double
 * underscore nests, a single one stays part of the key, names are lower-cased). Only a
 * name with a double underscore, or one naming a top-level key (SUTAZAI_ENVIRONMENT), is
 * configuration: the app's own SUTAZAI_DATA_DIR or SUTAZAI_PASSPHRASE and the programs'
 * SUTAZAI_CORE_PORT are not, and are left alone. Returns undefined for those.
 */
export function envVariablePath(name: string, topLevelKeys: readonly string[]): string[] | undefined {
  if (!name.startsWith(ENV_PREFIX)) return undefined;
  const rest = name.slice(ENV_PREFIX.length);
  const path = rest.split('__').map((segment) => segment.toLowerCase());
  return rest.includes('__') || topLevelKeys.includes(path[0]!) ? path : undefined;
}

/** The SUTAZAI_<PATH> variable that would set a key: the inverse of envVariablePath. */
export function envVariableName(path: ConfigPath): string {
  return ENV_PREFIX + path.map((segment) => String(segment).toUpperCase()).join('__');
}

/**
 * The highest layer: each configuration variable's value is read as YAML (7443 is a
 * number, true a boolean, [a, b] a list; quote it to keep it text). A variable naming no
 * key is refused, with the closest name that would.
 */
export function parseEnvLayer(env: Readonly<Record<string, string | undefined>>, schema: z.ZodType): ParsedLayer {
  const topLevelKeys = keysAt(schema, []) ?? [];
  const value: Record<string, unknown> = {};
  const set: Array<{ path: string[]; name: string }> = [];
  // Sorted, so SUTAZAI_RUNTIME (a whole map) comes before SUTAZAI_RUNTIME__GRPC_PORT and the narrower one wins.
  for (const name of Object.keys(env).sort()) {
    const text = env[name];
    const path = envVariablePath(name, topLevelKeys);
    if (path === undefined || text === undefined) continue;
    checkNamesAKey(name, path, schema);
    setIn(value, path, parseValue(name, text));
    set.push({ path, name });
  }
  return {
    layer: LAYER,
    kind: 'env',
    file: set.map((entry) => entry.name).join(', '),
    value,
    locate(path: ConfigPath): Origin {
      const within = (outer: readonly (string | number)[], inner: readonly (string | number)[]) =>
        outer.every((segment, i) => String(segment) === String(inner[i]));
      // The variable that set this key or a map around it; the last such one won.
      const setter = [...set].reverse().find((entry) => within(entry.path, path)) ?? set.find((entry) => within(path, entry.path));
      return { layer: LAYER, kind: 'env', file: setter?.name ?? 'environment' };
    },
  };
}

function checkNamesAKey(name: string, path: string[], schema: z.ZodType): void {
  for (let depth = 0; depth < path.length; depth++) {
    const parent = path.slice(0, depth);
    const keys = keysAt(schema, parent);
    const segment = path[depth]!;
    if (segment === '') {
      throw new ConfigError(
        'CONFIG_ENV_INVALID',
        `${name} has an empty level (three or more underscores in a row, or one at the end).`,
        REMEDY_NAMES,
        { origin: { layer: LAYER, kind: 'env', file: name } },
      );
    }
    if (keys === undefined) {
      throw new ConfigError(
        'CONFIG_ENV_INVALID',
        `${name} goes below ${parent.join('.')}, which is a single value, not a section.`,
        `Use ${envVariableName(parent)} to set it. ${REMEDY_NAMES}`,
        { origin: { layer: LAYER, kind: 'env', file: name } },
      );
    }
    if (!keys.includes(segment)) {
      const hint = closestMatch(segment, keys);
      const where = parent.length === 0 ? 'is not a configuration section' : `is not a key of ${parent.join('.')}`;
      throw new ConfigError(
        'CONFIG_ENV_INVALID',
        `${name} names no configuration key: "${segment}" ${where}${hint ? `; did you mean ${envVariableName([...parent, hint])}?` : '.'}`,
        hint ? `Rename the variable to ${envVariableName([...parent, hint])}, or unset it.` : REMEDY_NAMES,
        { origin: { layer: LAYER, kind: 'env', file: name }, key: path.join('.') },
      );
    }
  }
}

function parseValue(name: string, text: string): unknown {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new ConfigError(
      'CONFIG_ENV_INVALID',
      `${name}=${text} is not a value YAML can read: ${(doc.errors[0]!.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}.`,
      `Quote the value if it is text (${name}='"..."'), or write a number, true/false, or a list like [a, b].`,
      { origin: { layer: LAYER, kind: 'env', file: name } },
    );
  }
  return doc.toJS();
}

function setIn(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const segment of path.slice(0, -1)) {
    if (!isPlainRecord(node[segment])) node[segment] = {};
    node = node[segment] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}
