import type { z } from 'zod';
import { closestMatch } from './closest-match';
import { ConfigError } from './config-error';
import { describeOrigin, describePath, isPlainRecord, type Origin } from './config-layer';
import { envVariableName } from './env-layer';
import { keysAt, type ConfigPath } from './schema-keys';

const SEE_DEFAULTS = 'config/defaults.yaml lists every key, its default and the values it allows.';

/**
 * Turns a schema issue into an operator's error: where (file:line:column, or
 * the environment variable), which key, why, and what to do.
 */
export function configIssueError(
  issue: z.core.$ZodIssue,
  others: readonly z.core.$ZodIssue[],
  value: unknown,
  schema: z.ZodType,
  locate: (path: ConfigPath, which: 'key' | 'value') => Origin,
): ConfigError {
  // A port clash is one problem told at both of its keys.
  const pairedWith = issue.code === 'custom' ? (issue.params as { samePortAs?: string } | undefined)?.samePortAs : undefined;
  const count = others.filter((other) => other !== issue && !(pairedWith !== undefined && other.path.join('.') === pairedWith)).length;
  const more = count > 0 ? ` (and ${count} more problem${count > 1 ? 's' : ''})` : '';
  const path = issue.path as Array<string | number>;

  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    const at = [...path, key];
    const origin = locate(at, 'key');
    const hint = closestMatch(key, keysAt(schema, path) ?? []);
    const name = describePath(at);
    const suggestion = hint ? describePath([...path, hint]) : undefined;
    return new ConfigError(
      origin.kind === 'env' ? 'CONFIG_ENV_INVALID' : 'CONFIG_UNKNOWN_KEY',
      `${describeOrigin(origin)}: ${name} is not a configuration key${suggestion ? `; did you mean ${suggestion}?` : '.'}${more}`,
      suggestion
        ? `Rename ${key} to ${hint} in ${origin.file}, or remove it. ${SEE_DEFAULTS}`
        : `Remove ${key} from ${origin.file}. ${SEE_DEFAULTS}`,
      { origin, key: name },
    );
  }

  const origin = locate(path, 'value');
  const name = describePath(path);
  const missing = issue.code === 'invalid_type' && valueAt(value, path) === undefined;
  const why = missing ? 'is missing, and no layer below sets it' : issue.message;
  const remedy =
    origin.kind === 'env'
      ? `Correct ${origin.file} or unset it. ${SEE_DEFAULTS}`
      : missing
        ? `Add ${name} to ${origin.file}, or restore it in config/defaults.yaml. ${SEE_DEFAULTS}`
        : `Correct ${name} in ${origin.file}${origin.line ? ` (line ${origin.line})` : ''}, or set it with ${envVariableName(path)}. ${SEE_DEFAULTS}`;
  return new ConfigError(
    origin.kind === 'env' ? 'CONFIG_ENV_INVALID' : 'CONFIG_INVALID',
    `${describeOrigin(origin)}: ${name}: ${why}.${more}`,
    remedy,
    { origin, key: name },
  );
}

function valueAt(value: unknown, path: readonly (string | number)[]): unknown {
  let node = value;
  for (const segment of path) {
    if (Array.isArray(node)) node = node[Number(segment)];
    else if (isPlainRecord(node)) node = node[String(segment)];
    else return undefined;
  }
  return node;
}
