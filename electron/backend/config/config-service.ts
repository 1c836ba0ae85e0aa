import {
  ApiError,
  type ConfigCheckResult,
  type ConfigDiffResult,
  type ConfigExplanation,
  type ConfigOrigin,
  type ConfigProblem,
  type ConfigText,
} from '../../contract';
import type { Origin, ParsedLayer } from './config-layer';
import { ConfigError } from './config-error';
import { diffConfigs } from './diff-configs';
import { explainKey } from './explain-key';
import { sharedOffThreadYaml, type OffThreadYaml } from '../untrusted-yaml/parse-off-thread';
import { loadInstallConfig, type InstallConfigOptions, type LoadedInstallConfig } from './load-install-config';
import { layerFromOutcome, type LayerSource } from './yaml-layer';

export interface ConfigLayersInput {
  environment?: string | undefined;
  install: readonly ConfigText[];
  host?: ConfigText | undefined;
}

export interface ConfigService {
  /** Valid (with the merged result), or the problem an install would stop on, as data. */
  check(input: ConfigLayersInput): Promise<ConfigCheckResult>;
  /** A key's merged value and the layer that set it; an invalid configuration is thrown as its ConfigError. */
  explain(input: ConfigLayersInput & { key: string }): Promise<ConfigExplanation>;
  /**
   * What changes from `before` to `after`, both over the same defaults, environment and
   * host text, so the list holds the two versions' own differences.
   */
  diff(input: Omit<ConfigLayersInput, 'install'> & { before: ConfigText; after: ConfigText }): Promise<ConfigDiffResult>;
}

/**
 * The layered configuration for the app, which edits texts rather than files: the same
 * loader, explanation and diff as `sutazai config check|show|diff`, over the shipped
 * defaults and environment profiles. SUTAZAI_* variables are left out: they belong to the
 * shell a CLI runs in, not to the backend process, and would make what the operator sees
 * depend on how the app was started.
 *
 * The texts come from a client: they are parsed on a worker thread (untrusted-yaml/), so
 * that a slow or hostile one never holds up the backend's other clients.
 */
export function createConfigService(deps: { configDir?: string | undefined; yaml?: OffThreadYaml }): ConfigService {
  const yaml = (): OffThreadYaml => deps.yaml ?? sharedOffThreadYaml();
  const parse = async (text: ConfigText, layer: Omit<LayerSource, 'file'>): Promise<ParsedLayer> => {
    const source = { ...layer, file: text.name };
    try {
      return layerFromOutcome(await yaml().run({ kind: 'config-layer', text: text.text, source }));
    } catch (error) {
      // Cut off for time or memory: a problem with this layer like any other.
      if (error instanceof ApiError && !(error instanceof ConfigError))
        throw new ConfigError(error.code, error.message, error.remedy, { origin: source });
      throw error;
    }
  };

  const load = async (input: ConfigLayersInput): Promise<LoadedInstallConfig> => {
    const install = await Promise.all(input.install.map((text) => parse(text, { layer: 'install', kind: 'install' })));
    const host = input.host ? await parse(input.host, { layer: 'host', kind: 'host' }) : undefined;
    const options: InstallConfigOptions = {
      ...(deps.configDir ? { configDir: deps.configDir } : {}),
      ...(input.environment ? { environment: input.environment } : {}),
      install: install.map((parsed) => ({ parsed })),
      ...(host ? { host: { parsed: host } } : {}),
    };
    return loadInstallConfig(options);
  };

  return {
    async check(input: ConfigLayersInput): Promise<ConfigCheckResult> {
      let loaded: LoadedInstallConfig;
      try {
        loaded = await load(input);
      } catch (error) {
        if (error instanceof ConfigError) return { valid: false, problem: toProblem(error) };
        throw error;
      }
      return { valid: true, environment: loaded.environment, layers: loaded.layers, config: loaded.config };
    },

    async explain(input: ConfigLayersInput & { key: string }): Promise<ConfigExplanation> {
      const loaded = await load(input);
      const explanation = explainKey(loaded, input.key);
      return {
        key: explanation.key,
        environment: loaded.environment,
        value: explanation.value,
        settings: explanation.settings.map((setting) => ({
          key: setting.key,
          value: setting.value,
          setBy: toOrigin(setting.setBy),
          overridden: setting.overridden.map(({ value, setBy }) => ({ value, setBy: toOrigin(setBy) })),
        })),
      };
    },

    async diff(input: Omit<ConfigLayersInput, 'install'> & { before: ConfigText; after: ConfigText }): Promise<ConfigDiffResult> {
      const over = (version: ConfigText) => load({ environment: input.environment, host: input.host, install: [version] });
      const before = await over(input.before);
      const after = await over(input.after);
      return {
        before: { name: input.before.name, environment: before.environment },
        after: { name: input.after.name, environment: after.environment },
        changes: diffConfigs(before.config, after.config),
      };
    },
  };
}

export function toOrigin(origin: Origin): ConfigOrigin {
  return { layer: origin.layer, kind: origin.kind, file: origin.file, line: origin.line ?? null, column: origin.column ?? null };
}

export function toProblem(error: ConfigError): ConfigProblem {
  return {
    code: error.code,
    message: error.message,
    remedy: error.remedy,
    key: error.key ?? null,
    origin: error.origin ? toOrigin(error.origin) : null,
  };
}
