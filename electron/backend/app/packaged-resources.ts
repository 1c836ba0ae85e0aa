import path from 'node:path';

/**
 * Where the packaged app keeps what it carries beside its code. electron-builder's
 * extraResources (electron-builder.yml) put these under Electron's resources path, next to
 * app.asar:
 *   <resources path>/resources/probe/probe.sh          the remote probe
 *   <resources path>/resources/runtime/proto/          the runtime's gRPC API (beside sutazai-runtime.cjs)
 *   <resources path>/resources/bundles/*.sutazai-bundle the default release bundle
 *   <resources path>/config/                           default configuration and requirement profiles
 *
 * The shell names that path to the backend in SUTAZAI_RESOURCES_PATH: a utility process is
 * not promised `process.resourcesPath`, plain Node (web mode, the packaging test) has none,
 * and `electron .` from a checkout has one that holds none of these. Without it the backend
 * runs from a checkout and each finder looks there. With it, it is the only place looked:
 * a package that lacks a file must say so, not borrow one from a checkout that happens to
 * lie above the working directory.
 */
export const RESOURCES_PATH_VARIABLE = 'SUTAZAI_RESOURCES_PATH';

export const PACKAGED_PATHS = {
  probeScript: path.join('resources', 'probe', 'probe.sh'),
  protoDir: path.join('resources', 'runtime', 'proto'),
  bundlesDir: path.join('resources', 'bundles'),
  configDir: 'config',
} as const;

export type PackagedPart = keyof typeof PACKAGED_PATHS;

/** The packaged app's resources path, or undefined when running from a checkout. */
export function packagedResourcesPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[RESOURCES_PATH_VARIABLE];
  return value === undefined || value.trim() === '' ? undefined : path.resolve(value);
}

/** Where `part` lies in the package, or undefined when running from a checkout. */
export function packagedPath(part: PackagedPart, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const root = packagedResourcesPath(env);
  return root === undefined ? undefined : path.join(root, PACKAGED_PATHS[part]);
}
