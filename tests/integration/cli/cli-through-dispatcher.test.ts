// The CLI is a third pipe to the same dispatcher as the window's MessagePort and the
// WebSocket: a bad argument is refused by the dispatcher's own parsing, with its code and
// message, and a command answers what the same method answers over the WebSocket.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackendWithClient } from '../../support/backend-harness';
import { runSutazai } from '../../support/run-sutazai';
import { makeTempDir } from '../../support/temp-dir';

const dir = makeTempDir('sutazai-cli-pipe-');
const dataDir = path.join(dir.path, 'data');

beforeAll(() => {
  // Build once up front so each case measures the command, not the bundler.
  expect(runSutazai(['help'], dataDir).code).toBe(0);
});
afterAll(() => dir.remove());

describe('the CLI through the dispatcher', () => {
  it('is refused a bad argument with the dispatcher’s BAD_PARAMS, naming the contract method', () => {
    // Two hosts make a bulk probe (probes.start), whose contract takes at least one second per host.
    const { code, stdout, stderr } = runSutazai(['hosts', 'probe', 'local', 'local', '--timeout', '0.5', '--json'], dataDir);
    expect(code).toBe(2);
    expect(JSON.parse(stdout)).toMatchObject({ error: { code: 'BAD_PARAMS' } });
    expect(stderr).toMatch(/^error BAD_PARAMS: Bad arguments for probes\.start: timeoutMs: /m);
    expect(stderr).toContain('remedy: Pass the arguments probes.start takes in the API contract.');
  });

  it('answers `hosts list` with what hosts.list answers over the WebSocket', async () => {
    const cli = runSutazai(['hosts', 'list', '--json'], dataDir);
    expect(cli.code).toBe(0);
    const listed = JSON.parse(cli.stdout) as unknown[];
    expect(listed).toHaveLength(1);
    // The same data directory served over the WebSocket; nothing probes or samples in between.
    const { client, stop } = await startTestBackendWithClient({ dataDir, sampleLocalHost: false, probeAtStart: false });
    try {
      expect(await client.call('hosts.list', {})).toEqual(listed);
    } finally {
      await stop();
    }
  });
});
