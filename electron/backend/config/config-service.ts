import type { ConfigCheckResult, ConfigDiffResult, ConfigExplanation, ConfigOrigin, ConfigProblem, ConfigText } from '../../contract';
import type { Origin } from './config-layer';
import { ConfigError } from './config-error';
import { diffConfigs } from './diff-configs';
import { explainKey } from './explain-key';
import { loadInstallConfig, type InstallConfigOptions, type LoadedInstallConfig } from './load-install-config';

export interface ConfigLayersInput {
  environment?: string | undefined;
  install: readonly ConfigText[];
  host?: ConfigText | undefined;
}

/**
 * The layered configuration for the app, which edits texts rather than files: the same
 * loader, explanation and diff as `sutazai config check|show|diff`, over the shipped
 * defaults and environment profiles. SUTAZAI_* variables are left out: they belong to the
 * shell a CLI runs in, not to the backend process, and would make what the operator sees
 * depend on how the app was started.
 */
export function createConfigService(deps: { configDir?: string | undefined }) {
  const load = (input: ConfigLayersInput): LoadedInstallConfig => {
    const options: InstallConfigOptions = {
      ...(deps.configDir ? { configDir: deps.configDir } : {}),
      ...(input.environment ? { environment: input.environment } : {}),
      install: input.install.map(({ name, text }) => ({ name, text })),
      ...(input.host ? { host: { name: input.host.name, text: input.host.text } } : {}),
    };
    return loadInstallConfig(options);
  };

  return {
    /** Valid (with the merged result), or the problem an install would stop on, as data. */
    check(input: ConfigLayersInput): ConfigCheckResult {
      let loaded: LoadedInstallConfig;
      try {
        loaded = load(input);
      } catch (error) {
        if (error instanceof ConfigError) return { valid: false, problem: toProblem(error) };
        throw error;
      }
      return { valid: true, environment: loaded.environment, layers: loaded.layers, config: loaded.config };
    },

    /** A key's merged value and the layer that set it; an invalid configuration is thrown as its ConfigError. */
    explain(input: ConfigLayersInput & { key: string }): ConfigExplanation {
      const loaded = load(input);
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

    /**
     * What changes from `before` to `after`, both over the same defaults, environment and
     * host text, so the list holds the two versions' own differences.
     */
    diff(input: Omit<ConfigLayersInput, 'install'> & { before: ConfigText; after: ConfigText }): ConfigDiffResult {
      const over = (version: ConfigText) => load({ environment: input.environment, host: input.host, install: [version] });
      const before = over(input.before);
      const after = over(input.after);
      return {
        before: { name: input.before.name, environment: before.environment },
        after: { name: input.after.name, environment: after.environment },
        changes: diffConfigs(before.config, after.config),
      };
    },
  };
}

export type ConfigService = ReturnType<typeof createConfigService>;

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
