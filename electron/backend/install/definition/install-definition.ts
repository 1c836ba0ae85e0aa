import path from 'node:path';
import { stringify } from 'yaml';
import type { InstallLayer, ParsedInstallDefinition } from '../../../contract';
import type { YamlSource } from '../../config/load-install-config';
import { parseBundleReference, type InstallFile } from './install-file';

/**
 * The engine's install file from an install definition that came over the API (the
 * wizard builds one instead of writing YAML). Paths in it are on the backend's machine,
 * so a relative one is taken from the backend's working directory, as the CLI would.
 */
export function installFileOf(definition: ParsedInstallDefinition): InstallFile {
  const dir = process.cwd();
  return {
    // Named in the engine's messages ("install lab: host x is not in the inventory") and kept as the install's source.
    file: `install ${definition.name}`,
    text: stringify(definition, { lineWidth: 0 }),
    name: definition.name,
    bundle: parseBundleReference(definition.bundle, dir),
    environment: definition.environment,
    layers: definition.config.map((layer, index) => sourceOf(layer, `install ${definition.name} config[${index}]`, dir)),
    hosts: definition.hosts.map((host) => ({
      name: host.name,
      role: host.role,
      gpu: host.gpu,
      config: host.config ? sourceOf(host.config, `install ${definition.name} host ${host.name}`, dir) : undefined,
    })),
  };
}

/** A layer as the configuration loader reads it; values written inline become a YAML text of their own name. */
function sourceOf(layer: InstallLayer, name: string, dir: string): YamlSource {
  if ('file' in layer) return { file: path.resolve(dir, layer.file) };
  if ('values' in layer) return { name, text: stringify(layer.values, { lineWidth: 0 }) };
  return { name: layer.name, text: layer.text };
}
