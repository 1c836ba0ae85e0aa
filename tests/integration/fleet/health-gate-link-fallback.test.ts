// The health gate when the host's fleet link fails in the middle of its wait, made to happen
// at a chosen moment: SutazAI installed on a test host (the real runtime, core and agents), a
// fleet link to it (the first SSH connection the host serves), and the job's own SSH session
// (the second). One agent is stopped, so the gate's first try, over the link, finds the host
// unhealthy and waits on; right after that answer, and before the gate sees it, the link's
// SSH connection is cut (its sshd connection process ended, while the host's sshd goes on
// serving the job's connection) and the agent is started again over the job's connection.
// The gate's next try, on the link's channel it kept, fails; the one after goes over the
// job's own connection, which the answer (the job's log line) names with the reason, and the
// gate passes there.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFleetLinks } from '../../../electron/backend/fleet/link/fleet-links';
import type { FleetLinks } from '../../../electron/backend/fleet/link/link-types';
import { openRuntimeConnection, type RuntimeConnection, type RuntimeTls } from '../../../electron/backend/fleet/runtime-connection';
import type { SshSession } from '../../../electron/backend/hosts/ssh/ssh-session';
import type { RouteLinks } from '../../../electron/backend/install/health/runtime-route';
import { HEALTH_CALL_TIMEOUT_MS, judgeProcesses, waitHealthy } from '../../../electron/backend/install/health/wait-healthy';
import type { ExpectedProcess } from '../../../electron/backend/install/render/render-manifest';
import { createSecretVault } from '../../../electron/backend/secrets/secret-vault';
import { openStore, type Store } from '../../../electron/backend/store/open-store';
import { createRepositories } from '../../../electron/backend/store/repositories';
import { installLabFleet, openLabFleet, type LabFleetHost } from '../../support/lab-fleet';
import { operatorTlsOf, startInstallBackend, TEST_LINK_TIMING, VAULT_PASSPHRASE } from '../../support/install-lab';
import { openLabSession } from '../../support/lab-session';
import { setUpSuite } from '../../support/suite-set-up';
import { makeTempDir } from '../../support/temp-dir';
import { pidsInNamespaces, terminate } from '../../support/test-hosts/kill-processes';
import { SSHD } from '../../support/test-hosts/sshd';
import { useTestLab } from '../../support/test-hosts/use-test-lab';
import { makeWaitFor } from '../../support/wait-for';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-gate-fallback-');
const dataDir = path.join(tmp.path, 'data');
const INSTALL = 'gatelab';
const HOST_NAME = 'gate-a';
/** The runtime's gRPC port on the host's loopback (config/defaults.yaml). */
const RUNTIME_PORT = 7600;
const waitFor = makeWaitFor({ timeoutMs: 90_000, pollMs: 100 });

let lab: LabFleetHost;
let hostId: number;
let store: Store;
let links: FleetLinks;
let tls: RuntimeTls;

setUpSuite(
  async (defer) => {
    defer(tmp.remove);
    const fleet = await openLabFleet(defer, labRef.lab, { dir: tmp.path, bundleName: 'gate', hostNames: [HOST_NAME] });
    lab = fleet.hosts[0]!;
    // Installed by a backend that keeps no links (as the command line's): the test's own link is the host's only one.
    const backend = await startInstallBackend(dataDir, { fleetLinks: false });
    try {
      hostId = (await installLabFleet(backend, fleet, { install: INSTALL })).hostIds[0]!;
    } finally {
      await backend.close();
    }
    tls = await operatorTlsOf(dataDir, INSTALL);
    store = openStore({ dataDir });
    defer(() => store.close());
    const repos = createRepositories(store.db);
    const vault = createSecretVault(store.db);
    vault.unlock({ kind: 'passphrase', passphrase: VAULT_PASSPHRASE });
    links = createFleetLinks({
      hosts: repos.hosts,
      hostKeys: repos.hostKeys,
      vault,
      installs: repos.installs,
      installRecords: repos.installRecords,
      consumers: [],
      now: Date.now,
      logger: { info: () => {}, warn: () => {} },
      timing: TEST_LINK_TIMING,
    });
    defer(() => links.close());
    await links.refresh();
  },
  { setUpMs: 300_000, undoMs: 120_000 },
);

/** The host's sshd processes that serve one connection each (their parent is an sshd too); not the listening server. */
function sshdConnectionPids(): number[] {
  const sshd = new Set(
    pidsInNamespaces([lab.host.namespace]).filter((pid) => {
      try {
        return fs.readlinkSync(`/proc/${pid}/exe`) === SSHD;
      } catch {
        return false;
      }
    }),
  );
  return [...sshd].filter((pid) => {
    try {
      const ppid = Number(/^PPid:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
      return sshd.has(ppid);
    } catch {
      return false;
    }
  });
}

/** Waits until the runtime, asked over `runtime`, reports `process` with every instance in `state`. */
async function processIn(runtime: RuntimeConnection, process: string, state: string): Promise<void> {
  await waitFor(`${process} ${state}`, async () => {
    const found = (await runtime.listProcesses()).find((p) => p.name === process);
    return found !== undefined && found.instances.length > 0 && found.instances.every((i) => i.state === state);
  });
}

describe('the health gate when the fleet link fails in the middle of its wait', () => {
  it("goes on over the job's own SSH connection, says so and why, and passes there", async () => {
    await waitFor('the link online', () => links.state(hostId)?.state === 'online');
    // The link's connection is the only one the host serves yet; the job's own is the one that comes after.
    const linkOnly = sshdConnectionPids();
    expect(linkOnly.length).toBeGreaterThan(0);
    const own: SshSession = await openLabSession(lab.host);
    const runtime = await openRuntimeConnection({ session: own, runtimePort: RUNTIME_PORT, tls });
    try {
      const ownPids = sshdConnectionPids().filter((pid) => !linkOnly.includes(pid));
      expect(ownPids.length).toBeGreaterThan(0);
      const expected: ExpectedProcess[] = (await runtime.listProcesses()).map((p) => ({ name: p.name, replicas: p.instances.length }));
      expect(expected.map((p) => p.name)).toContain('agent');
      await runtime.stopProcess('agent');
      await processIn(runtime, 'agent', 'PROCESS_STATE_STOPPED');

      // What went over the link, in order; its first answer is held until the link is cut and the agent started.
      const seen: string[] = [];
      let cut = false;
      const watched: RouteLinks = {
        state: (id) => links.state(id),
        async openChannel(id, channel) {
          const connection = await links.openChannel(id, channel);
          seen.push('channel over the link');
          return {
            ...connection,
            async listProcesses() {
              try {
                const processes = await connection.listProcesses();
                seen.push(`answered over the link: ${judgeProcesses(processes, expected).healthy ? 'healthy' : 'unhealthy'}`);
                if (!cut) {
                  cut = true;
                  // The link's connection only: whatever sshd serves now that is not the job's.
                  const linkPids = sshdConnectionPids().filter((pid) => !ownPids.includes(pid));
                  expect(await terminate(linkPids)).toEqual([]);
                  seen.push('link cut');
                  await runtime.startProcess('agent');
                }
                return processes;
              } catch (error) {
                seen.push('failed over the link');
                throw error;
              }
            },
          };
        },
      };

      const passed = await waitHealthy({
        route: {
          links: watched,
          hostId,
          installName: INSTALL,
          job: 'apply',
          hostName: HOST_NAME,
          session: own,
          channel: { runtimeAddress: '127.0.0.1', runtimePort: RUNTIME_PORT, tls, callTimeoutMs: HEALTH_CALL_TIMEOUT_MS },
        },
        expected,
        timeoutMs: 120_000,
      });

      // The first try went over the link and found the stopped agent; the next, on the channel it kept, failed.
      expect(seen).toEqual(['channel over the link', 'answered over the link: unhealthy', 'link cut', 'failed over the link']);
      // The answer came over the job's own connection, and the job's log line says so and why.
      expect(passed.via).toMatch(
        new RegExp(`^over this apply's own SSH connection to ${HOST_NAME}: the try before over the fleet link failed \\(.+\\)$`),
      );
      expect(passed.summary).toBe(expected.map((p) => `${p.name} running ${p.replicas}/${p.replicas}`).join(', '));
      // The job's connection was never touched, and the host's sshd went on serving: the link comes back.
      expect(own.closed || own.lost !== null).toBe(false);
      await waitFor('the link online again', () => links.state(hostId)?.state === 'online');
    } finally {
      await runtime.close();
      own.close();
    }
  }, 240_000);
});
