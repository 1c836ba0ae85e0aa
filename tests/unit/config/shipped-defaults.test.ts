import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InstallConfigShape } from '../../../electron/backend/config/install-config-schema';
import { readYamlLayer } from '../../../electron/backend/config/load-install-config';
import { leafPaths } from '../../../electron/backend/config/schema-keys';

const configDir = path.resolve(__dirname, '../../../config');

describe('config/defaults.yaml', () => {
  it('sets every key of the schema, so no install is left with a gap', () => {
    const layer = readYamlLayer('defaults', 'defaults', { file: path.join(configDir, 'defaults.yaml') });
    const missing = leafPaths(InstallConfigShape).filter(
      (key) => key.reduce<unknown>((node, segment) => (node as Record<string, unknown> | undefined)?.[segment], layer.value) === undefined,
    );
    expect(missing).toEqual([]);
  });

  it('agrees with the runtime: loopback listen address, its ports and log caps', () => {
    const layer = readYamlLayer('defaults', 'defaults', { file: path.join(configDir, 'defaults.yaml') });
    const example = fs.readFileSync(path.resolve(__dirname, '../../../agents-runtime/config/example-runtime.yaml'), 'utf8');
    const runtime = layer.value.runtime as {
      listen_address: string;
      metrics_listen_address: string;
      grpc_port: number;
      metrics_port: number;
      logs: Record<string, number>;
    };
    expect(example).toContain(`listen: ${runtime.listen_address}:${runtime.grpc_port}`);
    expect(example).toContain(`listen: ${runtime.metrics_listen_address}:${runtime.metrics_port}`);
    expect(runtime.metrics_listen_address).toBe('127.0.0.1');
    for (const key of ['max_file_bytes', 'keep_files', 'max_total_bytes'])
      expect(example).toMatch(new RegExp(`${key}: ${runtime.logs[key]}\\b`));
  });
});
