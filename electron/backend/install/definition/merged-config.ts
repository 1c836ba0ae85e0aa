import { loadInstallConfig, type YamlSource } from '../../config/load-install-config';
import type { InstallConfig } from '../../config/install-config-schema';
import type { InstallHostEntry } from './install-file';

/** Where the layers below an install file's come from: the app's config/ and SUTAZAI_* variables. */
export interface ConfigSources {
  configDir: string | undefined;
  env: Readonly<Record<string, string | undefined>> | undefined;
}

/** An install file's layers: its environment profile and its configuration layers. */
export interface InstallLayers {
  environment: string | undefined;
  layers: readonly YamlSource[];
}

/** The install's own layers merged, before any host's: what applies to the install as a whole (upload_concurrency). */
export function installConfigOf(sources: ConfigSources, install: InstallLayers): InstallConfig {
  return loadInstallConfig({
    ...(sources.configDir !== undefined ? { configDir: sources.configDir } : {}),
    ...(install.environment !== undefined ? { environment: install.environment } : {}),
    install: install.layers,
    ...(sources.env ? { env: sources.env } : {}),
  }).config;
}

/** The host's merged configuration: the install's layers, the host's own layer, SUTAZAI_* variables. A bad value throws, naming file:line:column. */
export function hostConfigOf(context: ConfigSources & InstallLayers, entry: Pick<InstallHostEntry, 'config'>): InstallConfig {
  return loadInstallConfig({
    ...(context.configDir !== undefined ? { configDir: context.configDir } : {}),
    ...(context.environment !== undefined ? { environment: context.environment } : {}),
    install: context.layers,
    ...(entry.config ? { host: entry.config } : {}),
    ...(context.env ? { env: context.env } : {}),
  }).config;
}
