// A change made from the command line beside a running app reaches the runtimes at once
// (issue 14 gap: it waited for the link's 20 s recheck). SutazAI installed for real on a test
// host, a backend keeping a link to it whose own recheck is set to an hour here, so only the
// app noticing the CLI's commit (SQLite's data_version, store/foreign-commits.ts) can push:
// `sutazai operators remove` and `sutazai access rotate-key`, each a child process on the same
// data directory, show up in the access state the runtime keeps. Every wait is for that state.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startInstallBackend, TEST_LINK_TIMING, VAULT_PASSPHRASE, type LabBackend } from '../../support/install-lab';
import { installLabFleet, openLabFleet } from '../../support/lab-fleet';
import { runSutazaiAsync } from '../../support/run-sutazai';
import { setUpSuite } from '../../support/suite-set-up';
import { makeTempDir } from '../../support/temp-dir';
import { useTestLab } from '../../support/test-hosts/use-test-lab';
import { makeWaitFor } from '../../support/wait-for';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-cli-beside-app-');
const dataDir = path.join(tmp.path, 'data');
const INSTALL = 'besidelab';
const ADA = 'ada has a long password';
const waitFor = makeWaitFor({ timeoutMs: 90_000, pollMs: 200 });

let backend: LabBackend;
let stateDir: string;

interface KeptState {
  version: number;
  tokenKeys: unknown[];
  operators: Array<{ name: string }>;
}

function kept(): KeptState | null {
  const file = path.join(stateDir, 'access-state.json');
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as KeptState) : null;
}

/** The CLI as a person types it beside the app: a child process on the same data directory, ada's password on stdin. */
async function sutazaiAsAda(args: string[]): Promise<void> {
  const run = await runSutazaiAsync(['--as', 'ada', ...args], dataDir, {
    stdin: `${ADA}\n`,
    env: { SUTAZAI_PASSPHRASE: VAULT_PASSPHRASE },
  });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
}

setUpSuite(
  async (defer) => {
    defer(tmp.remove);
    fs.mkdirSync(dataDir, { recursive: true });
    const fleet = await openLabFleet(defer, labRef.lab, { dir: tmp.path, bundleName: 'cli-beside', hostNames: ['beside-a'] });
    stateDir = fleet.hosts[0]!.tree.stateDir;
    // An hour: a push this test sees is never the link's own periodic look.
    backend = await startInstallBackend(dataDir, { fleetLinks: true, linkTiming: TEST_LINK_TIMING, accessRecheckMs: 3_600_000 });
    defer(() => backend.close());
    await installLabFleet(backend, fleet, {
      install: INSTALL,
      values: { system_integration: { security: { authentication_method: 'jwt' } } },
    });
    await backend.api.call('operators.add', { name: 'ada', role: 'admin', password: ADA });
    await backend.api.call('operators.add', { name: 'otto', role: 'operator', password: 'otto has a long password' });
  },
  { setUpMs: 300_000, undoMs: 120_000 },
);

describe('the command line beside a running app', () => {
  it('removes an operator: the runtime is told without waiting for the recheck', async () => {
    // Added in this process: pushed at once, as before.
    const before = await waitFor('otto in the access state on the host', async () => {
      const now = kept();
      return now?.operators.some((o) => o.name === 'otto') ? now : null;
    });
    await sutazaiAsAda(['operators', 'remove', 'otto']);
    const after = await waitFor('otto gone from the access state on the host', async () => {
      const now = kept();
      return now !== null && !now.operators.some((o) => o.name === 'otto') ? now : null;
    });
    expect(after.version).toBeGreaterThan(before.version);
    expect(after.operators.map((o) => o.name)).toEqual(['ada']);
  }, 180_000);

  it('rotates the install’s token key: the runtime holds the new key alone', async () => {
    const before = kept()!;
    await sutazaiAsAda(['access', 'rotate-key', '--install', INSTALL]);
    const after = await waitFor('a new token key in the access state on the host', async () => {
      const now = kept();
      return now !== null && JSON.stringify(now.tokenKeys) !== JSON.stringify(before.tokenKeys) ? now : null;
    });
    expect(after.version).toBeGreaterThan(before.version);
    expect(after.tokenKeys).toHaveLength(1);
  }, 180_000);
});
