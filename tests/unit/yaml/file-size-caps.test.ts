// Every YAML file the app or the runtime reads is refused past its size limit, by reading
// one byte past the limit: an endless file (/dev/zero) is refused, not read forever.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRuntimeConfig } from '../../../agents-runtime/src/daemon/runtime-config';
import { readCappedText, TextTooLargeError } from '../../../agents-runtime/src/yaml/read-capped-text';
import { readYamlLayer } from '../../../electron/backend/config/load-install-config';
import { readInstallFile } from '../../../electron/backend/install/definition/install-file';
import { loadProfiles } from '../../../electron/backend/preflight/load-profiles';
import { makeTempDir } from '../../support/temp-dir';

const dir = makeTempDir('sutazai-size-caps-');
afterAll(() => dir.remove());

function bigFile(name: string, bytes = 2 * 1024 * 1024): string {
  const file = path.join(dir.path, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `note: "${'x'.repeat(bytes)}"\n`);
  return file;
}

describe('file size caps', () => {
  it('refuses an endless file after reading one byte past the limit', () => {
    expect(() => readCappedText('/dev/zero', 1024)).toThrow(TextTooLargeError);
    expect(readCappedText(bigFile('small.yaml', 10), 1024)).toBe(`note: "${'x'.repeat(10)}"\n`);
  });

  it('refuses an oversized config layer, install file and requirement profile with CONFIG_YAML_INVALID and a remedy', () => {
    const layer = bigFile('layer.yaml');
    expect(() => readYamlLayer('install', 'install', { file: layer })).toThrow(
      expect.objectContaining({ code: 'CONFIG_YAML_INVALID', message: `The install layer ${layer} is over the limit of 1048576 bytes.` }),
    );
    const install = bigFile('install-file.yaml');
    expect(() => readInstallFile(install)).toThrow(
      expect.objectContaining({ code: 'CONFIG_YAML_INVALID', remedy: expect.stringContaining('1 MiB') }),
    );
    bigFile('config/profiles/huge.yaml');
    expect(() => loadProfiles(path.join(dir.path, 'config'))).toThrow(expect.objectContaining({ code: 'CONFIG_YAML_INVALID' }));
  });

  it('refuses an oversized runtime config with CONFIG_INVALID', () => {
    expect(() => loadRuntimeConfig(bigFile('runtime.yaml'))).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('is over the limit of 1048576 bytes') }),
    );
  });
});
