import path from 'node:path';
import type { InstallDefinition } from '../../electron/contract';
import type { BuiltBundle } from '../../electron/backend/bundles/build-bundle';

/**
 * The install of one test host as the install tests define it. The host shares this
 * machine's filesystem, so its install goes below `base` (a temp directory), not /opt.
 */

/** `install.yaml` putting the install's directories below `base`: root_dir is `<base>/opt`. */
export function labInstallYaml(base: string): string {
  const values = {
    root_dir: path.join(base, 'opt'),
    config_dir: path.join(base, 'etc'),
    state_dir: path.join(base, 'state'),
    log_dir: path.join(base, 'log'),
    health_timeout_seconds: 90,
  };
  return `install:\n${Object.entries(values)
    .map(([key, value]) => `  ${key}: ${value}`)
    .join('\n')}\n`;
}

/** `name@version` of a built bundle, as installs.* name it. */
export function bundleReference(bundle: BuiltBundle): string {
  return `${bundle.manifest.name}@${bundle.manifest.version}`;
}

/** `name` installs `bundle` on the one host `hostName` (core and agents, no GPU), in development, with labInstallYaml. */
export function labInstallDefinition(options: { name: string; bundle: BuiltBundle; hostName: string; base: string }): InstallDefinition {
  return {
    name: options.name,
    bundle: bundleReference(options.bundle),
    environment: 'development',
    config: [{ name: 'install.yaml', text: labInstallYaml(options.base) }],
    hosts: [{ name: options.hostName, role: 'both', gpu: false }],
  };
}
