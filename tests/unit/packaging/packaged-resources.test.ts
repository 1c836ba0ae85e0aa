import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  PACKAGED_PATHS,
  packagedPath,
  packagedResourcesPath,
  RESOURCES_PATH_VARIABLE,
} from '../../../electron/backend/app/packaged-resources';
import { findRuntimeProtoDir } from '../../../electron/backend/fleet/runtime-protos';
import { defaultConfigDir } from '../../../electron/backend/preflight/load-profiles';
import { findProbeScript } from '../../../electron/backend/probe/probe-script';
import { makeTempDir } from '../../support/temp-dir';

// The backend's finders in a package: SUTAZAI_RESOURCES_PATH (set by the shell) is the only
// place they look, so a package missing a file says so instead of using the checkout that the
// tests themselves run from.
const root = path.resolve(import.meta.dirname, '../../..');

/** A resources path holding copies of the checkout's files, each where the package puts it. */
function packagedCopy(dir: string): string {
  fs.cpSync(path.join(root, 'resources/probe'), path.join(dir, 'resources/probe'), { recursive: true });
  fs.cpSync(path.join(root, 'agents-runtime/proto'), path.join(dir, PACKAGED_PATHS.protoDir), { recursive: true });
  fs.cpSync(path.join(root, 'config'), path.join(dir, PACKAGED_PATHS.configDir), { recursive: true });
  return dir;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('packaged resources', () => {
  it('are looked for only when the shell names the resources path', () => {
    expect(packagedResourcesPath({})).toBeUndefined();
    expect(packagedResourcesPath({ [RESOURCES_PATH_VARIABLE]: ' ' })).toBeUndefined();
    expect(packagedPath('protoDir', { [RESOURCES_PATH_VARIABLE]: '/opt/SutazAI/resources' })).toBe(
      path.join('/opt/SutazAI/resources', 'resources', 'runtime', 'proto'),
    );
  });

  it('from a checkout, the finders find the checkout’s files', () => {
    vi.stubEnv(RESOURCES_PATH_VARIABLE, '');
    vi.stubEnv('SUTAZAI_CONFIG_DIR', '');
    expect(findProbeScript()).toBe(path.join(root, 'resources/probe/probe.sh'));
    expect(defaultConfigDir()).toBe(path.join(root, 'config'));
    expect(findRuntimeProtoDir()).toMatch(/(agents-runtime|runtime)\/proto$/);
  });

  it('in a package, the probe script, the .proto files and config/ come from the resources path', () => {
    const dir = makeTempDir('sutazai-packaged-resources-');
    try {
      vi.stubEnv(RESOURCES_PATH_VARIABLE, packagedCopy(dir.path));
      vi.stubEnv('SUTAZAI_CONFIG_DIR', '');
      expect(findProbeScript()).toBe(path.join(dir.path, PACKAGED_PATHS.probeScript));
      expect(findRuntimeProtoDir()).toBe(path.join(dir.path, PACKAGED_PATHS.protoDir));
      expect(defaultConfigDir()).toBe(path.join(dir.path, PACKAGED_PATHS.configDir));
    } finally {
      dir.remove();
    }
  });

  it('in a package that lacks them, each finder refuses instead of borrowing the checkout’s', () => {
    const dir = makeTempDir('sutazai-packaged-resources-');
    try {
      vi.stubEnv(RESOURCES_PATH_VARIABLE, dir.path);
      vi.stubEnv('SUTAZAI_CONFIG_DIR', '');
      expect(() => findProbeScript()).toThrow(expect.objectContaining({ code: 'INTERNAL', message: expect.stringContaining(dir.path) }));
      expect(() => findRuntimeProtoDir()).toThrow(
        expect.objectContaining({ code: 'INTERNAL', message: expect.stringContaining(dir.path) }),
      );
      expect(() => defaultConfigDir()).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    } finally {
      dir.remove();
    }
  });
});
