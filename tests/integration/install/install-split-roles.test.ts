// The core on one host and the agents on another: the installer makes the core listen
// beyond loopback (core.listen_address auto: some host runs agents without a core) and
// points the agent host at the core host's address. The agents report healthy only once
// they are registered with that core over the lab's network, which the core's own log
// confirms.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { BuiltBundle } from '../../../electron/backend/bundles/build-bundle';
import { makeBundleKit, type BundleKit } from '../../support/bundle-kit';
import {
  addLabHost,
  buildRealNodeBundle,
  type LabBackend,
  runtimeReports,
  startInstallBackend,
  stopInstalledRuntime,
} from '../../support/install-lab';
import { hostTree, type HostTree } from '../../support/release-lab';
import { makeTempDir } from '../../support/temp-dir';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-split-');
const dataDir = path.join(tmp.path, 'data');
const INSTALL = 'splitlab';
let kit: BundleKit;
let bundle: BuiltBundle;
let backend: LabBackend;
let coreHost: TestHost;
let agentHost: TestHost;
const trees = new Map<string, HostTree>();

interface ManifestProcess {
  name: string;
  env: Record<string, string | number>;
  health: { port: number; host?: string };
}
const manifestOf = (name: string) =>
  (parse(fs.readFileSync(path.join(trees.get(name)!.root, 'current', 'etc', 'manifest.yaml'), 'utf8')) as { processes: ManifestProcess[] })
    .processes;

beforeAll(async () => {
  const { lab } = labRef;
  [kit, coreHost, agentHost] = await Promise.all([
    makeBundleKit(),
    lab.addSshHost({ login: 'root-key' }),
    lab.addSshHost({ login: 'root-key' }),
  ]);
  bundle = await buildRealNodeBundle(kit, 'split');
  backend = await startInstallBackend(dataDir);
  await backend.bundles.import(bundle.file, { trustKey: kit.key.fingerprint });
  await addLabHost(backend, coreHost, 'core-host');
  await addLabHost(backend, agentHost, 'agent-host');
  trees.set('core-host', hostTree(path.join(tmp.path, 'core-host')));
  trees.set('agent-host', hostTree(path.join(tmp.path, 'agent-host')));
}, 180_000);

afterAll(async () => {
  const { lab } = labRef;
  if (agentHost) await stopInstalledRuntime(lab, agentHost, trees.get('agent-host')!.root).catch(() => undefined);
  if (coreHost) await stopInstalledRuntime(lab, coreHost, trees.get('core-host')!.root).catch(() => undefined);
  await backend?.close();
  kit?.remove();
  tmp.remove();
}, 120_000);

describe('a core host and a separate agent host', () => {
  it('installs both, and the agents on the agent host register with the core on the core host', async () => {
    const file = path.join(tmp.path, 'install.yaml');
    fs.writeFileSync(
      file,
      [
        `name: ${INSTALL}`,
        `bundle: ${bundle.manifest.name}@${bundle.manifest.version}`,
        'environment: development',
        'config:',
        '  - values: { install: { health_timeout_seconds: 90 }, agents: { replicas_per_host: 2 } }',
        'hosts:',
        '  - name: core-host',
        '    role: core',
        `    config: { values: { install: ${JSON.stringify(trees.get('core-host')!.values)} } }`,
        '  - name: agent-host',
        '    role: agent',
        `    config: { values: { install: ${JSON.stringify(trees.get('agent-host')!.values)} } }`,
      ].join('\n'),
    );
    const result = await backend.installs.apply(file, { concurrency: 2 });
    expect(result.hosts.map((h) => [h.host, h.outcome, h.error?.message ?? null])).toEqual([
      ['core-host', 'installed', null],
      ['agent-host', 'installed', null],
    ]);

    // What the installer wrote: the core on every interface, the agents dialling the core host.
    const [core] = manifestOf('core-host');
    expect(manifestOf('core-host').map((p) => p.name)).toEqual(['core']);
    expect(core!.env).toMatchObject({ SUTAZAI_CORE_LISTEN_ADDRESS: '0.0.0.0', SUTAZAI_CORE_PORT: 7700 });
    const agents = manifestOf('agent-host');
    expect(agents.map((p) => p.name)).toEqual(['agent']);
    expect(agents[0]!.env).toMatchObject({ SUTAZAI_CORE_ADDRESS: `${coreHost.address}:7700` });

    // An agent is healthy only while it is registered with a core that answers it.
    expect(await runtimeReports(dataDir, INSTALL, [coreHost, agentHost])).toEqual([
      { host: coreHost.name, processes: [['core', ['PROCESS_STATE_RUNNING']]], health: 'SERVING' },
      { host: agentHost.name, processes: [['agent', ['PROCESS_STATE_RUNNING', 'PROCESS_STATE_RUNNING']]], health: 'SERVING' },
    ]);
    const coreLog = fs.readFileSync(path.join(trees.get('core-host')!.logDir, 'core.log'), 'utf8');
    expect(coreLog).toContain('"address":"0.0.0.0:7700"');
    for (const agent of ['agent-1', 'agent-2']) expect(coreLog).toContain(`"msg":"agent registered","agent":"${agent}"`);
  }, 300_000);
});
