import type { MethodName } from './api';
import { BundleReferenceSchema, type InstallLayer, type ParsedInstallDefinition } from './installs';

/**
 * Methods a page may call whose params may still name a path on the backend's machine:
 * an install definition's `bundle` given as a file's path (imported on the way) and its
 * `{file}` layers (read as YAML, their errors quoting the file's lines and keys). Over a
 * pipe that may not name such paths (web mode: PAGE_PATH_METHODS' rule) those fields are
 * refused before any file is touched; a page names a bundle imported before as
 * name@version (the Bundles page imports an upload) and writes its layers inline.
 */
const INSTALL_DEFINITION_METHODS: ReadonlySet<string> = new Set<MethodName>(['installs.plan', 'installs.start']);

/** The fields of these parsed params that name a path on the backend's machine, as `install.config[0].file`; none: []. */
export function backendPathFieldsIn(method: MethodName, params: unknown): string[] {
  if (!INSTALL_DEFINITION_METHODS.has(method)) return [];
  const install = (params as { install?: ParsedInstallDefinition }).install;
  if (install === undefined) return [];
  const fields: string[] = [];
  // The engine reads anything but name@version as a path (parseBundleReference).
  if (!BundleReferenceSchema.safeParse(install.bundle).success) fields.push('install.bundle');
  const isFile = (layer: InstallLayer | undefined) => layer !== undefined && 'file' in layer;
  install.config.forEach((layer, index) => {
    if (isFile(layer)) fields.push(`install.config[${index}].file`);
  });
  install.hosts.forEach((host, index) => {
    if (isFile(host.config)) fields.push(`install.hosts[${index}].config.file`);
  });
  return fields;
}
