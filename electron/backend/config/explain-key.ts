import { closestMatch } from './closest-match';
import { ConfigError } from './config-error';
import { describeOrigin, type Origin } from './config-layer';
import { InstallConfigShape } from './install-config-schema';
import type { LoadedInstallConfig } from './load-install-config';
import { keysAt } from './schema-keys';

export interface KeySetting {
  key: string;
  value: unknown;
  /** The layer whose value won. */
  setBy: Origin;
  /** The values it overrode, from the layer just below down to the lowest. */
  overridden: Array<{ value: unknown; setBy: Origin }>;
}

export interface KeyExplanation {
  key: string;
  value: unknown;
  /** One entry for a single value; one per key inside for a section such as `runtime`. */
  settings: KeySetting[];
}

/** The merged value of a key (a.b.c, or a whole section) and which layer set each part. */
export function explainKey(loaded: LoadedInstallConfig, key: string): KeyExplanation {
  const path = key === '' ? [] : key.split('.');
  checkKeyExists(path);
  const settings: KeySetting[] = [];
  for (const [dotted, history] of loaded.merged.settings) {
    if (path.length > 0 && dotted !== key && !dotted.startsWith(`${key}.`)) continue;
    const winner = history.at(-1)!;
    settings.push({
      key: dotted,
      value: winner.value,
      setBy: winner.origin,
      overridden: history
        .slice(0, -1)
        .reverse()
        .map(({ value, origin }) => ({ value, setBy: origin })),
    });
  }
  let value: unknown = loaded.config;
  for (const segment of path) value = (value as Record<string, unknown>)[segment];
  return { key: key || '(all)', value, settings };
}

/** One line per key: `key = value    set by file:line:column (layer), over ...`. */
export function formatExplanation(explanation: KeyExplanation): string {
  return explanation.settings
    .map((setting) => {
      const over = setting.overridden.map((o) => `${JSON.stringify(o.value)} from ${o.setBy.layer}`).join(', ');
      return `${setting.key} = ${JSON.stringify(setting.value)}\n    set by ${describeSetter(setting.setBy)}${over ? `\n    overrides ${over}` : ''}`;
    })
    .join('\n');
}

/** `file:line:column (layer)`, or `environment variable NAME`, which names its layer already. */
export function describeSetter(origin: Origin): string {
  return origin.kind === 'env' ? describeOrigin(origin) : `${describeOrigin(origin)} (${origin.layer})`;
}

function checkKeyExists(path: string[]): void {
  for (let depth = 0; depth < path.length; depth++) {
    const keys = keysAt(InstallConfigShape, path.slice(0, depth));
    const segment = path[depth]!;
    if (keys?.includes(segment)) continue;
    const parent = path.slice(0, depth).join('.');
    const hint = keys ? closestMatch(segment, keys) : undefined;
    const suggestion = hint ? [...path.slice(0, depth), hint].join('.') : undefined;
    throw new ConfigError(
      'CONFIG_UNKNOWN_KEY',
      keys
        ? `${path.join('.')} is not a configuration key${suggestion ? `; did you mean ${suggestion}?` : '.'}`
        : `${path.join('.')} is not a configuration key: ${parent} is a single value.`,
      suggestion
        ? `Ask for ${suggestion}.`
        : 'Ask for a key that config/defaults.yaml lists, e.g. runtime.grpc_port, or a section such as runtime.',
      { key: path.join('.') },
    );
  }
}
