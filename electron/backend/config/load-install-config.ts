import path from 'node:path';
import type { z } from 'zod';
import { readCappedText, TextTooLargeError, YAML_FILE_LIMITS } from '../../../agents-runtime/src/wire';
import { defaultConfigDir } from '../preflight/load-profiles';
import { closestMatch } from './closest-match';
import { ConfigError } from './config-error';
import { describeOrigin, LAYER_KINDS, type LayerKind, type Origin, type ParsedLayer } from './config-layer';
import { configIssueError } from './config-issue';
import { parseEnvLayer } from './env-layer';
import { ENVIRONMENTS, InstallConfigSchema, InstallConfigShape, type InstallConfig } from './install-config-schema';
import { mergeLayers, type MergedLayers } from './merge-layers';
import { optionalAtAnyDepth, type ConfigPath } from './schema-keys';
import { parseYamlLayer, YAML_LIMITS_REMEDY } from './yaml-layer';
import { checkSupported } from './supported-values';

export type Environment = (typeof ENVIRONMENTS)[number];

/** A YAML layer on disk, or in memory under a name (an upload, a stored install version). */
export type YamlSource = { file: string } | { name: string; text: string };

/** A layer to load: a source, or one already parsed (off the event loop, from text a client sent). */
export type LayerInput = YamlSource | { parsed: ParsedLayer };

export interface InstallConfigOptions {
  /** Holds defaults.yaml and environments/; the app's config/ folder when absent. */
  configDir?: string;
  /** development, staging or production; else the install layers' `environment:`, else the defaults'. */
  environment?: string;
  /** The install's own values, lowest first. */
  install?: readonly LayerInput[];
  /** The per-host override. */
  host?: LayerInput;
  /** Where SUTAZAI_* variables come from (process.env in the CLI); none when absent. */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface LoadedInstallConfig {
  config: InstallConfig;
  environment: Environment;
  /** The layers merged, lowest first. */
  layers: Array<{ layer: string; kind: LayerKind; file: string }>;
  merged: MergedLayers;
}

/** A single layer is checked key by key; only the merged result must hold every key. */
const LayerSchema = optionalAtAnyDepth(InstallConfigShape);

/**
 * Loads the layers in order (defaults, environment profile, install, host, SUTAZAI_*
 * variables), checks each, merges them and checks the result, so that every error names
 * the layer, file:line:column and key that caused it; then refuses a system_integration
 * value without effect (supported-values.ts).
 */
export function loadInstallConfig(options: InstallConfigOptions = {}): LoadedInstallConfig {
  const configDir = options.configDir ?? defaultConfigDir();
  const defaults = readYamlLayer('defaults', 'defaults', { file: path.join(configDir, 'defaults.yaml') });
  const upper = [
    ...(options.install ?? []).map((source) => readYamlLayer('install', 'install', source)),
    ...(options.host ? [readYamlLayer('host', 'host', options.host)] : []),
    ...(options.env ? [parseEnvLayer(options.env, InstallConfigShape)] : []),
  ].filter((layer) => layer.kind !== 'env' || Object.keys(layer.value).length > 0);
  for (const layer of [defaults, ...upper]) checkLayer(layer);

  const environment = chooseEnvironment(options.environment, [defaults, ...upper]);
  const environmentLayer = readYamlLayer(`environment ${environment}`, 'environment', {
    file: path.join(configDir, 'environments', `${environment}.yaml`),
  });
  checkLayer(environmentLayer);
  const loaded = mergeChecked([defaults, environmentLayer, ...upper]);
  checkEnvironmentAgrees(loaded, environment, options.environment !== undefined);
  // Valid, and also meant: a value nothing acts on yet is refused rather than ignored.
  checkSupported(loaded.config, loaded.merged);
  return loaded;
}

/** Reads and parses one YAML layer; an unreadable file is CONFIG_LAYER_UNREADABLE. */
export function readYamlLayer(layer: string, kind: LayerKind, source: LayerInput): ParsedLayer {
  if ('parsed' in source) return source.parsed;
  if ('text' in source) return parseYamlLayer(source.text, { layer, kind, file: source.name });
  let text: string;
  try {
    text = readCappedText(source.file, YAML_FILE_LIMITS.maxBytes);
  } catch (cause) {
    if (cause instanceof TextTooLargeError) {
      throw new ConfigError('CONFIG_YAML_INVALID', `The ${layer} layer ${source.file} ${cause.message}.`, YAML_LIMITS_REMEDY, {
        origin: { layer, kind, file: source.file },
      });
    }
    const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
    const shipped = kind === 'defaults' || kind === 'environment';
    throw new ConfigError(
      'CONFIG_LAYER_UNREADABLE',
      `The ${layer} layer ${source.file} cannot be read (${code}).`,
      shipped
        ? 'The configuration that ships with the app is missing: reinstall it, or set SUTAZAI_CONFIG_DIR to a folder holding defaults.yaml and environments/.'
        : 'Give the path of an existing, readable YAML file.',
      { origin: { layer, kind, file: source.file } },
      { cause },
    );
  }
  return parseYamlLayer(text, { layer, kind, file: source.file });
}

/** One layer against the schema with every key optional: types, ranges and unknown keys. */
export function checkLayer(layer: ParsedLayer): void {
  const parsed = LayerSchema.safeParse(layer.value);
  if (!parsed.success) {
    const { issues } = parsed.error;
    throw configIssueError(issues[0]!, issues, layer.value, InstallConfigShape, (at, which) => layer.locate(at, which));
  }
}

/**
 * Merges checked layers (lowest first) and checks the result as a whole: every key set,
 * and the checks across keys. An error points at the layer that set the offending value.
 */
export function mergeChecked(layers: readonly ParsedLayer[]): LoadedInstallConfig {
  const merged = mergeLayers(layers);
  const parsed = InstallConfigSchema.safeParse(merged.value);
  if (!parsed.success) {
    const locate = (at: ConfigPath): Origin => {
      for (let depth = at.length; depth >= 0; depth--) {
        const dotted = at.slice(0, depth).join('.');
        const winner = merged.settings.get(dotted)?.at(-1)?.origin ?? merged.maps.get(dotted)?.at(-1);
        if (winner) return winner;
      }
      return layers[0]!.locate([]);
    };
    // The problem the highest layer caused comes first: that is most likely the recent edit.
    const rank = (issue: z.core.$ZodIssue) => LAYER_KINDS.indexOf(locate(issue.path as ConfigPath).kind);
    const { issues } = parsed.error;
    const first = issues.reduce((best, issue) => (rank(issue) > rank(best) ? issue : best));
    throw configIssueError(first, issues, merged.value, InstallConfigShape, locate);
  }
  return {
    config: parsed.data,
    environment: parsed.data.environment,
    layers: layers.map(({ layer, kind, file }) => ({ layer, kind, file })),
    merged,
  };
}

function chooseEnvironment(requested: string | undefined, layers: readonly ParsedLayer[]): Environment {
  if (requested !== undefined) {
    if ((ENVIRONMENTS as readonly string[]).includes(requested)) return requested as Environment;
    const hint = closestMatch(requested, ENVIRONMENTS);
    throw new ConfigError(
      'CONFIG_INVALID',
      `"${requested}" is not an environment profile${hint ? `; did you mean ${hint}?` : '.'}`,
      `Choose one of ${ENVIRONMENTS.join(', ')}.`,
    );
  }
  // The highest layer that names one decides; the layers were checked, so it is valid.
  const named = [...layers].reverse().find((layer) => typeof layer.value.environment === 'string');
  return (named?.value.environment ?? 'production') as Environment;
}

function checkEnvironmentAgrees(loaded: LoadedInstallConfig, environment: Environment, requested: boolean): void {
  if (loaded.config.environment === environment) return;
  const origin = loaded.merged.settings.get('environment')!.at(-1)!.origin;
  throw new ConfigError(
    'CONFIG_INVALID',
    `${describeOrigin(origin)}: environment: is ${loaded.config.environment}, but the configuration was loaded for ${environment}${requested ? ` (--env ${environment})` : ''}.`,
    `Load it for ${loaded.config.environment} (choose that environment), or remove environment: from ${origin.file}.`,
    { origin, key: 'environment' },
    {
      cliRemedy: `Load it for ${loaded.config.environment} (--env ${loaded.config.environment}), or remove environment: from ${origin.file}.`,
    },
  );
}
