import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { explainKey, formatExplanation } from '../../../electron/backend/config/explain-key';
import { loadInstallConfig } from '../../../electron/backend/config/load-install-config';

const configDir = path.resolve(__dirname, '../../../config');
const loaded = loadInstallConfig({
  configDir,
  environment: 'development',
  install: [{ name: 'install.yaml', text: 'core:\n  log_level: warn\n' }],
  env: { SUTAZAI_CORE__PORT: '7800' },
});

describe('explainKey', () => {
  it('gives the merged value, the layer that set it and the values it overrode', () => {
    const explained = explainKey(loaded, 'core.log_level');
    expect(explained.value).toBe('warn');
    expect(explained.settings).toHaveLength(1);
    const [setting] = explained.settings;
    expect(setting!.setBy).toMatchObject({ layer: 'install', file: 'install.yaml', line: 2, column: 14 });
    expect(setting!.overridden.map((o) => [o.value, o.setBy.layer])).toEqual([
      ['debug', 'environment development'],
      ['info', 'defaults'],
    ]);
  });

  it('explains every key of a section', () => {
    const explained = explainKey(loaded, 'core');
    expect(explained.value).toMatchObject({ port: 7800, log_level: 'warn', lease_ms: 15000 });
    expect(explained.settings.map((s) => s.key)).toEqual([
      'core.port',
      'core.listen_address',
      'core.lease_ms',
      'core.max_wait_ms',
      'core.max_attempts',
      'core.stop_grace_ms',
      'core.log_level',
    ]);
    const text = formatExplanation(explained);
    expect(text).toContain('core.port = 7800\n    set by environment variable SUTAZAI_CORE__PORT\n    overrides 7700 from defaults');
    expect(text).toMatch(/core\.lease_ms = 15000\n {4}set by .*defaults\.yaml:\d+:\d+ \(defaults\)\n/);
  });

  it('refuses a key that does not exist, with the close one', () => {
    expect(() => explainKey(loaded, 'core.prot')).toThrow(
      expect.objectContaining({ code: 'CONFIG_UNKNOWN_KEY', message: 'core.prot is not a configuration key; did you mean core.port?' }),
    );
    expect(() => explainKey(loaded, 'core.port.number')).toThrow(expect.objectContaining({ code: 'CONFIG_UNKNOWN_KEY' }));
  });
});
