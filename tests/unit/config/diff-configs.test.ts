import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffConfigs, formatChanges } from '../../../electron/backend/config/diff-configs';
import { loadInstallConfig } from '../../../electron/backend/config/load-install-config';

const configDir = path.resolve(__dirname, '../../../config');

describe('diffConfigs', () => {
  it('lists added, removed and changed keys in a stable order', () => {
    const before = { b: { x: 1, y: [1, 2] }, a: 'same', gone: true };
    const after = { a: 'same', b: { y: [1, 3], x: 1, z: 'new' } };
    const expected = [
      { path: 'b.y', kind: 'changed', before: [1, 2], after: [1, 3] },
      { path: 'b.z', kind: 'added', after: 'new' },
      { path: 'gone', kind: 'removed', before: true },
    ];
    expect(diffConfigs(before, after)).toEqual(expected);
    // Key order in the input does not change the output.
    expect(diffConfigs({ gone: true, a: 'same', b: { y: [1, 2], x: 1 } }, after)).toEqual(expected);
    expect(formatChanges(diffConfigs(before, after))).toBe('~ b.y: [1,2] -> [1,3]\n+ b.z: "new"\n- gone: true');
  });

  it('finds nothing between equal configurations', () => {
    const config = loadInstallConfig({ configDir }).config;
    expect(diffConfigs(config, structuredClone(config))).toEqual([]);
    expect(formatChanges([])).toBe('no differences');
  });

  it('shows what a new install version changes, environment included', () => {
    const v1 = loadInstallConfig({ configDir, install: [{ name: 'v1.yaml', text: 'core:\n  port: 7700\n' }] });
    const v2 = loadInstallConfig({ configDir, install: [{ name: 'v2.yaml', text: 'environment: staging\ncore:\n  port: 7800\n' }] });
    expect(diffConfigs(v1.config, v2.config)).toEqual([
      { path: 'core.port', kind: 'changed', before: 7700, after: 7800 },
      { path: 'environment', kind: 'changed', before: 'production', after: 'staging' },
      { path: 'install.health_timeout_seconds', kind: 'changed', before: 180, after: 120 },
      { path: 'install.releases_kept', kind: 'changed', before: 5, after: 2 },
    ]);
  });
});
