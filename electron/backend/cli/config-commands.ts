import { ApiError } from '../../contract';
import { diffConfigs, formatChanges } from '../config/diff-configs';
import { describeSetter, explainKey, formatExplanation } from '../config/explain-key';
import { loadInstallConfig, type InstallConfigOptions, type LoadedInstallConfig } from '../config/load-install-config';
import { EXIT } from './exit-codes';
import { formatTable } from './format-text';

/**
 * `sutazai config check|show|diff`: the layered install configuration. Files and
 * variables only, no database, so these run before (and without) the backend.
 */

export const CONFIG_COMMANDS = ['check', 'show', 'diff'];

export interface ConfigCommandInput {
  command: string;
  args: string[];
  values: Record<string, string | boolean | string[] | undefined>;
  env: Readonly<Record<string, string | undefined>>;
  print(text: string, value: unknown): void;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function loadOptions(input: ConfigCommandInput, withEnv: boolean): InstallConfigOptions {
  const configDir = str(input.values['config-dir']);
  const environment = str(input.values.env);
  const hostFile = str(input.values['host-file']);
  return {
    ...(configDir ? { configDir } : {}),
    ...(environment ? { environment } : {}),
    install: ((input.values.file as string[] | undefined) ?? []).map((file) => ({ file })),
    ...(hostFile ? { host: { file: hostFile } } : {}),
    ...(withEnv ? { env: input.env } : {}),
  };
}

const layerSummary = (loaded: LoadedInstallConfig) => loaded.layers.map(({ layer, kind, file }) => ({ layer, kind, file }));

export function runConfigCommand(input: ConfigCommandInput): number {
  switch (input.command) {
    case 'check':
      return configCheck(input);
    case 'show':
      return configShow(input);
    case 'diff':
      return configDiff(input);
    default:
      throw new ApiError(
        'BAD_PARAMS',
        `Unknown command "config ${input.command}".`,
        'Use config check, config show or config diff; `sutazai help` has the details.',
      );
  }
}

function configCheck(input: ConfigCommandInput): number {
  noPositionals(input, 'check');
  const loaded = loadInstallConfig(loadOptions(input, true));
  const table = formatTable(
    ['LAYER', 'FROM'],
    loaded.layers.map(({ layer, file }) => [layer, file]),
  );
  input.print(`configuration valid (environment ${loaded.environment})\n\nlayers, lowest first:\n${table}`, {
    valid: true,
    environment: loaded.environment,
    layers: layerSummary(loaded),
    config: loaded.config,
  });
  return EXIT.OK;
}

function configShow(input: ConfigCommandInput): number {
  noPositionals(input, 'show');
  const loaded = loadInstallConfig(loadOptions(input, true));
  const key = str(input.values.key) ?? '';
  const explanation = explainKey(loaded, key);
  const single = explanation.settings.length === 1 && explanation.settings[0]!.key === key ? explanation.settings[0]! : undefined;
  const text = single
    ? `${key} = ${JSON.stringify(single.value)}\nset by ${describeSetter(single.setBy)}${single.overridden.map((o) => `\noverrides ${JSON.stringify(o.value)} from ${describeSetter(o.setBy)}`).join('')}`
    : formatExplanation(explanation);
  input.print(text, { environment: loaded.environment, layers: layerSummary(loaded), ...explanation });
  return EXIT.OK;
}

function configDiff(input: ConfigCommandInput): number {
  if (input.args.length !== 2) {
    throw new ApiError(
      'BAD_PARAMS',
      '"config diff" needs two install files: the one before and the one after.',
      'Example: sutazai config diff install-v1.yaml install-v2.yaml [--env production] [--host-file host.yaml]',
    );
  }
  if (input.values.file !== undefined) {
    throw new ApiError(
      'BAD_PARAMS',
      '"config diff" takes its two install files as arguments, not --file.',
      'Example: sutazai config diff install-v1.yaml install-v2.yaml',
    );
  }
  // Both sides over the same defaults, environment and host file; SUTAZAI_* variables
  // are left out, so the diff is the files' own and the same on any shell.
  const [before, after] = input.args.map((file) => loadInstallConfig({ ...loadOptions(input, false), install: [{ file }] })) as [
    LoadedInstallConfig,
    LoadedInstallConfig,
  ];
  const changes = diffConfigs(before.config, after.config);
  input.print(`${input.args[0]} -> ${input.args[1]}\n${formatChanges(changes)}`, {
    before: { file: input.args[0], environment: before.environment },
    after: { file: input.args[1], environment: after.environment },
    changes,
  });
  return EXIT.OK;
}

function noPositionals(input: ConfigCommandInput, command: string): void {
  if (input.args.length > 0) {
    throw new ApiError(
      'BAD_PARAMS',
      `"config ${command}" takes no arguments (got ${input.args.join(' ')}).`,
      'Pass install files with --file F (repeatable), the per-host override with --host-file F.',
    );
  }
}
