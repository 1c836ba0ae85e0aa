import { parseLocatedYaml, readCappedText, TextTooLargeError, YAML_FILE_LIMITS } from '../../../../agents-runtime/src/wire';
import path from 'node:path';
import { isMap, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { ApiError } from '../../../contract';
import { describeOrigin, describePath } from '../../config/config-layer';
import { ENVIRONMENTS } from '../../config/install-config-schema';
import type { YamlSource } from '../../config/load-install-config';
import { parseYamlLayer, YAML_LIMITS_REMEDY } from '../../config/yaml-layer';

/**
 * The install file: what `sutazai plan` and `sutazai apply` install, and where.
 *
 *   name: lab                       # the install's name (its CA is "SutazAI CA lab")
 *   bundle: sutazai@0.1.0           # an imported bundle (name@version), or a path to a .sutazai-bundle
 *   environment: staging            # optional: the environment profile
 *   config:                         # the install's configuration layers, lowest first
 *     - file: site.yaml             #   a YAML file, relative to this one
 *     - values: { agents: { replicas_per_host: 1 } }   # or values written here
 *   hosts:
 *     - name: core-1                # a host of the inventory
 *       role: both                  # core | agent | both
 *       gpu: true                   # optional: run GPU agents (default: it has an NVIDIA GPU)
 *       config: { file: core-1.yaml }   # optional per-host override, a file or values
 *
 * Errors name file:line:column, as the configuration's do, and so do errors in values
 * written inline: they are handed to the configuration loader at their own position.
 */

export const INSTALL_ROLES = ['core', 'agent', 'both'] as const;

const LayerSchema = z.union([z.strictObject({ file: z.string().min(1) }), z.strictObject({ values: z.record(z.string(), z.unknown()) })], {
  error: 'must be { file: PATH } or { values: { ... } }',
});

const HostSchema = z.strictObject({
  name: z.string().min(1, 'must name a host of the inventory'),
  role: z.enum(INSTALL_ROLES, { error: (issue) => `must be core, agent or both, not ${JSON.stringify(issue.input)}` }),
  gpu: z.boolean().optional(),
  config: LayerSchema.optional(),
});

export const InstallFileSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/, 'must be 1 to 50 letters, digits, ".", "_" or "-"'),
    bundle: z.string().min(1, 'must name an imported bundle (name@version) or a bundle file'),
    environment: z.enum(ENVIRONMENTS).optional(),
    config: z.array(LayerSchema).default([]),
    hosts: z.array(HostSchema).min(1, 'must list at least one host'),
  })
  .superRefine((file, ctx) => {
    const seen = new Map<string, number>();
    file.hosts.forEach((host, index) => {
      const first = seen.get(host.name);
      if (first !== undefined)
        ctx.addIssue({ code: 'custom', path: ['hosts', index, 'name'], message: `names ${host.name} again (already hosts[${first}])` });
      else seen.set(host.name, index);
    });
    if (!file.hosts.some((host) => host.role !== 'agent')) {
      ctx.addIssue({ code: 'custom', path: ['hosts'], message: 'has no core: give one host role core or both' });
    }
  });

export type InstallRole = (typeof INSTALL_ROLES)[number];

export interface InstallHostEntry {
  name: string;
  role: InstallRole;
  /** Undefined: decided from the host's facts (an NVIDIA GPU). */
  gpu: boolean | undefined;
  /** The per-host override layer, if any. */
  config: YamlSource | undefined;
}

export interface InstallFile {
  /** Absolute path of the install file. */
  file: string;
  text: string;
  name: string;
  /** `{ name, version }` of an imported bundle, or the absolute path of a bundle file. */
  bundle: { name: string; version: string } | { path: string };
  environment: (typeof ENVIRONMENTS)[number] | undefined;
  layers: YamlSource[];
  hosts: InstallHostEntry[];
}

const REMEDY = 'Correct the install file at that line and column; README.md ("Installing") shows the format.';

export function readInstallFile(file: string): InstallFile {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = readCappedText(absolute, YAML_FILE_LIMITS.maxBytes);
  } catch (cause) {
    if (cause instanceof TextTooLargeError)
      throw new ApiError('CONFIG_YAML_INVALID', `The install file ${absolute} ${cause.message}.`, YAML_LIMITS_REMEDY, { cause });
    throw new ApiError(
      'INSTALL_FILE_INVALID',
      `The install file ${absolute} cannot be read (${(cause as NodeJS.ErrnoException).code ?? String(cause)}).`,
      'Give the path of an existing install file (YAML).',
      { cause },
    );
  }
  return parseInstallFile(text, absolute);
}

export function parseInstallFile(text: string, file: string): InstallFile {
  // The configuration's YAML reader: the same syntax errors, and file:line:column for every path.
  const layer = parseYamlLayer(text, { layer: 'install file', kind: 'install', file });
  const parsed = InstallFileSchema.safeParse(layer.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
    const origin = layer.locate(at as Array<string | number>, issue.code === 'unrecognized_keys' ? 'key' : 'value');
    const why = issue.code === 'unrecognized_keys' ? 'is not a key of an install file' : issue.message;
    throw new ApiError('INSTALL_FILE_INVALID', `${describeOrigin(origin)}: ${describePath(at as Array<string | number>)}: ${why}.`, REMEDY);
  }
  const data = parsed.data;
  const dir = path.dirname(file);
  const nodes = locateValues(text, file);
  const source = (entry: z.output<typeof LayerSchema>, at: Array<string | number>): YamlSource => {
    if ('file' in entry) return { file: path.resolve(dir, entry.file) };
    return { name: file, text: nodes.embedded(at) };
  };
  return {
    file,
    text,
    name: data.name,
    bundle: parseBundleReference(data.bundle, dir),
    environment: data.environment,
    layers: data.config.map((entry, index) => source(entry, ['config', index, 'values'])),
    hosts: data.hosts.map((host, index) => ({
      name: host.name,
      role: host.role,
      gpu: host.gpu,
      config: host.config ? source(host.config, ['hosts', index, 'config', 'values']) : undefined,
    })),
  };
}

/** `name@version` names an imported bundle; anything else is a path to a bundle file. */
export function parseBundleReference(value: string, dir: string): InstallFile['bundle'] {
  const match = /^([a-z0-9][a-z0-9._-]{0,63})@(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?)$/.exec(value);
  if (match && !value.includes('/')) return { name: match[1]!, version: match[2]! };
  return { path: path.resolve(dir, value) };
}

/**
 * Inline `values:` as a YAML text of their own whose lines and columns are those of the
 * install file (blank lines above, spaces before), so the configuration loader's
 * file:line:column points into the install file.
 */
function locateValues(text: string, file: string): { embedded(at: Array<string | number>): string } {
  // The text already parsed within these limits as a configuration layer.
  const yaml = parseLocatedYaml(text, file, YAML_FILE_LIMITS);
  return {
    embedded(at) {
      const node = yaml.doc?.getIn(at, true) as YamlNode | undefined;
      const range = node?.range;
      if (!range || !isMap(node)) return '{}';
      const { line, column } = yaml.position(range[0]);
      return `${'\n'.repeat(line - 1)}${' '.repeat(column - 1)}${text.slice(range[0], range[1])}`;
    },
  };
}
