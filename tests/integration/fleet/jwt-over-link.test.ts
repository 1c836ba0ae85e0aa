// authentication_method: jwt end to end (issue 14 item 2): SutazAI installed for real on a
// test host with jwt in its configuration, a backend that keeps a link to it. The link pushes
// the runtime its access state (jwt, the install's token key), which the runtime keeps; the
// install engine's own calls (its certificate names the control center) still go through
// when the install is applied again; an operator added afterwards is pushed too, and their
// restart reaches the runtime.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startInstallBackend, TEST_LINK_TIMING, type LabBackend } from '../../support/install-lab';
import { installLabFleet, openLabFleet } from '../../support/lab-fleet';
import { setUpSuite } from '../../support/suite-set-up';
import { makeTempDir } from '../../support/temp-dir';
import { useTestLab } from '../../support/test-hosts/use-test-lab';
import { makeWaitFor } from '../../support/wait-for';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-jwt-link-');
const dataDir = path.join(tmp.path, 'data');
const INSTALL = 'jwtlab';
const waitFor = makeWaitFor({ timeoutMs: 90_000, pollMs: 200 });

let backend: LabBackend;
let stateDir: string;
let hostId = 0;
let installFile = '';

interface KeptState {
  version: number;
  install: string;
  authenticationMethod: string;
  tokenKeys: unknown[];
  operators: Array<{ name: string; role: string; attributes: object }>;
}

function kept(): KeptState | null {
  const file = path.join(stateDir, 'access-state.json');
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as KeptState) : null;
}

setUpSuite(
  async (defer) => {
    defer(tmp.remove);
    fs.mkdirSync(dataDir, { recursive: true });
    const fleet = await openLabFleet(defer, labRef.lab, { dir: tmp.path, bundleName: 'jwt-link', hostNames: ['jwt-a'] });
    stateDir = fleet.hosts[0]!.tree.stateDir;
    backend = await startInstallBackend(dataDir, { fleetLinks: true, linkTiming: TEST_LINK_TIMING });
    defer(() => backend.close());
    const installed = await installLabFleet(backend, fleet, {
      install: INSTALL,
      values: { system_integration: { security: { authentication_method: 'jwt' } } },
    });
    installFile = installed.installFile;
    hostId = installed.hostIds[0]!;
  },
  { setUpMs: 300_000, undoMs: 120_000 },
);

describe('an install with authentication_method: jwt', () => {
  it('has its runtime told over the link: jwt, the install, its token key', async () => {
    const state = await waitFor('the access state kept on the host', async () => kept());
    expect(state).toMatchObject({ install: INSTALL, authenticationMethod: 'jwt', operators: [] });
    expect(state.tokenKeys).toHaveLength(1);
  }, 120_000);

  it('is applied again after that: the install engine calls the runtime as the control center', async () => {
    const applied = await backend.installs.apply(installFile, {});
    expect(applied.hosts.map((h) => h.outcome)).not.toContain('failed');
    const table = await backend.api.call('fleet.processes', { hostId });
    expect(table.processes.map((p) => p.name)).toContain('core');
  }, 240_000);

  it('tells the runtime of an operator added later, whose restart then reaches it', async () => {
    const before = kept()!;
    await backend.api.call('operators.add', { name: 'ada', role: 'admin', password: 'correct horse battery' });
    // The link looks for changes made by anyone every 20 s: the new state names ada.
    const after = await waitFor('ada in the access state on the host', async () => {
      const now = kept();
      return now?.operators.some((o) => o.name === 'ada') ? now : null;
    });
    expect(after.version).toBeGreaterThan(before.version);
    expect(after.operators).toEqual([{ name: 'ada', role: 'admin', attributes: {} }]);
    // This pipe goes on as ada, the operator it added: the call carries her token.
    await expect(backend.api.call('fleet.restart', { hostId, process: 'core' })).resolves.toMatchObject({
      process: 'core',
      action: 'restart',
    });
  }, 120_000);
});
