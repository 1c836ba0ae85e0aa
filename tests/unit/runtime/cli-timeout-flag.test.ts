import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXIT, main } from '../../../agents-runtime/src/cli/sutazai-runtime';
import { makeTempDir } from '../../support/temp-dir';

// --timeout-ms is checked before it reaches a timer: NaN or 0 made a deadline that had already
// passed, and a value beyond Node's timer range one that fired at once.
let tmp: ReturnType<typeof makeTempDir>;
let config: string;
beforeAll(() => {
  tmp = makeTempDir('sutazai-cli-timeout-');
  fs.writeFileSync(path.join(tmp.path, 'manifest.yaml'), 'version: 1\nprocesses: []\n');
  config = path.join(tmp.path, 'runtime.yaml');
  fs.writeFileSync(
    config,
    [
      'manifest: manifest.yaml',
      'listen: 127.0.0.1:1',
      'tls: { ca: ca.pem, cert: server.pem, key: server.key }',
      `state_dir: ${path.join(tmp.path, 'state')}`,
      `log_dir: ${path.join(tmp.path, 'logs')}`,
      'client: { cert: client.pem, key: client.key }',
      '',
    ].join('\n'),
  );
});
afterAll(() => tmp.remove());
afterEach(() => vi.restoreAllMocks());

describe('sutazai-runtime --timeout-ms', () => {
  it.each(['abc', '0', '-5', '1.5', '86400001', '99999999999'])('refuses "%s" as a usage error, naming the range', async (value) => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    for (const command of ['status', 'stop-all']) {
      expect(await main([command, '--config', config, '--timeout-ms', value])).toBe(EXIT.USAGE);
      expect(stderr.mock.calls.map((call) => String(call[0])).join('')).toContain(
        `--timeout-ms takes a whole number of milliseconds from 1 to 86400000, not "${value}"`,
      );
      stderr.mockClear();
    }
  });
});
