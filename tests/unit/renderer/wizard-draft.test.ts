import { describe, expect, it } from 'vitest';
import { InstallDefinitionSchema, type BundleSummary, type HostSummary, type Placement } from '../../../electron/contract';
import {
  definitionOf,
  hostCheckParams,
  hostConfigName,
  hostConfigsProblem,
  hostsProblem,
  installNameProblem,
  newWizardDraft,
  nextStep,
  previousStep,
  rolesCoverHosts,
  rolesFor,
  rolesProblem,
  toggleHost,
  withHostConfig,
} from '../../../renderer/src/wizard/wizard-draft';

function host(id: number, name: string, changes: Partial<HostSummary> = {}): HostSummary {
  return {
    id,
    name,
    kind: 'ssh',
    address: `10.0.0.${id}`,
    createdAt: 1,
    lastProbedAt: 2,
    os: 'Debian 12',
    cpuModel: null,
    cpuThreads: 8,
    memoryBytes: 8 * 1024 ** 3,
    gpuCount: 0,
    port: 22,
    user: 'root',
    authMethod: 'key',
    keyPath: '/k',
    keyStored: false,
    hasSecret: false,
    jumpHostId: null,
    role: null,
    labels: [],
    hostKey: { keyType: 'ssh-ed25519', fingerprint: `SHA256:${'A'.repeat(43)}`, trustedAt: 1 },
    lastProbe: null,
    ...changes,
  };
}

const bundle = { id: 3, name: 'sutazai', version: '0.1.0' } as BundleSummary;
const placement = (hostId: number, role: Placement['role'], gpu = false): Placement => ({
  hostId,
  name: `h${hostId}`,
  role,
  gpu,
  gpuCount: gpu ? 1 : 0,
  reason: '',
});

describe('the install wizard’s draft, as the window edits it', () => {
  it('walks the steps in order, with nothing before the first or after the last', () => {
    expect(previousStep('bundle')).toBeNull();
    expect(nextStep('configuration')).toBe('review');
    expect(nextStep('done')).toBeNull();
  });

  it('drops a host’s role with the host, and asks again to accept failed checks when the hosts change', () => {
    const draft = {
      ...newWizardDraft(),
      hostIds: [1, 2],
      roles: [
        { hostId: 1, role: 'both' as const, gpu: false },
        { hostId: 2, role: 'agent' as const, gpu: true },
      ],
      preflightAccepted: true,
    };
    expect(toggleHost(draft, 2, false)).toEqual({
      hostIds: [1],
      roles: [{ hostId: 1, role: 'both', gpu: false }],
      hostConfigs: [],
      preflightAccepted: false,
    });
    expect(toggleHost(draft, 1, true).hostIds).toEqual([1, 2]);
  });

  it('keeps the roles the operator set and takes the suggestion for hosts chosen since', () => {
    const draft = { ...newWizardDraft(), hostIds: [1, 2], roles: [{ hostId: 1, role: 'core' as const, gpu: false }] };
    expect(rolesCoverHosts(draft)).toBe(false);
    const roles = rolesFor(draft, [placement(1, 'agent'), placement(2, 'agent', true)]);
    expect(roles).toEqual([
      { hostId: 1, role: 'core', gpu: false },
      { hostId: 2, role: 'agent', gpu: true },
    ]);
    expect(rolesCoverHosts({ ...draft, roles })).toBe(true);
  });

  it('says why the chosen hosts cannot go on: none, a key not confirmed, never probed', () => {
    expect(hostsProblem([])).toMatch(/at least one machine/);
    expect(hostsProblem([host(1, 'a', { hostKey: null })])).toMatch(/host key of a/);
    expect(hostsProblem([host(1, 'a'), host(2, 'b', { lastProbedAt: null })])).toMatch(/Probe b first/);
    expect(hostsProblem([host(1, 'a')])).toBeNull();
  });

  it('wants exactly one core', () => {
    expect(rolesProblem([{ hostId: 1, role: 'agent', gpu: false }])).toMatch(/exactly one machine the core/);
    expect(
      rolesProblem([
        { hostId: 1, role: 'both', gpu: false },
        { hostId: 2, role: 'core', gpu: false },
      ]),
    ).toMatch(/2 machines would run the core/);
    expect(
      rolesProblem([
        { hostId: 1, role: 'both', gpu: false },
        { hostId: 2, role: 'agent', gpu: true },
      ]),
    ).toBeNull();
  });

  it('builds the install definition the contract takes, leaving out an empty configuration', () => {
    const draft = {
      ...newWizardDraft(),
      installName: 'lab',
      bundleId: 3,
      hostIds: [2, 1],
      roles: [
        { hostId: 1, role: 'both' as const, gpu: false },
        { hostId: 2, role: 'agent' as const, gpu: true },
      ],
      environment: 'staging' as const,
    };
    const definition = definitionOf(draft, bundle, [host(1, 'core-1'), host(2, 'gpu-1')]);
    expect(definition).toEqual({
      name: 'lab',
      bundle: 'sutazai@0.1.0',
      environment: 'staging',
      config: [],
      hosts: [
        { name: 'gpu-1', role: 'agent', gpu: true },
        { name: 'core-1', role: 'both', gpu: false },
      ],
    });
    expect(InstallDefinitionSchema.safeParse(definition).success).toBe(true);
    const withText = definitionOf({ ...draft, config: { name: 'install.yaml', text: 'runtime:\n  grpc_port: 7601\n' } }, bundle, [
      host(1, 'core-1'),
      host(2, 'gpu-1'),
    ]);
    expect(withText?.config).toEqual([{ name: 'install.yaml', text: 'runtime:\n  grpc_port: 7601\n' }]);
  });

  it('has no definition while a part is missing: the bundle, a valid name, a role, a host removed since', () => {
    const draft = {
      ...newWizardDraft(),
      installName: 'lab',
      bundleId: 3,
      hostIds: [1],
      roles: [{ hostId: 1, role: 'both' as const, gpu: false }],
    };
    const hosts = [host(1, 'core-1')];
    expect(definitionOf(draft, undefined, hosts)).toBeNull();
    expect(definitionOf({ ...draft, installName: 'no spaces allowed' }, bundle, hosts)).toBeNull();
    expect(definitionOf({ ...draft, roles: [] }, bundle, hosts)).toBeNull();
    expect(definitionOf(draft, bundle, [])).toBeNull();
    expect(installNameProblem('no spaces allowed')).toMatch(/^The install’s name: use 1 to 50 letters/);
  });

  describe('per-host overrides', () => {
    const hosts = [host(1, 'core-1'), host(2, 'gpu-1')];
    const base = {
      ...newWizardDraft(),
      installName: 'lab',
      bundleId: 3,
      hostIds: [1, 2],
      roles: [
        { hostId: 1, role: 'both' as const, gpu: false },
        { hostId: 2, role: 'agent' as const, gpu: true },
      ],
      config: { name: 'install.yaml', text: 'runtime:\n  grpc_port: 7601\n' },
    };
    const override = { name: 'host-gpu-1.yaml', text: 'agents:\n  gpu_replicas_per_host: 2\n' };

    it('puts a host’s override on that host’s entry of the install definition, and leaves an empty one out', () => {
      const draft = { ...base, ...withHostConfig(base, 2, override) };
      const definition = definitionOf(draft, bundle, hosts);
      expect(definition?.hosts).toEqual([
        { name: 'core-1', role: 'both', gpu: false },
        { name: 'gpu-1', role: 'agent', gpu: true, config: override },
      ]);
      expect(InstallDefinitionSchema.safeParse(definition).success).toBe(true);
      const empty = { ...base, ...withHostConfig(base, 2, { name: 'host-gpu-1.yaml', text: '  \n' }) };
      expect(definitionOf(empty, bundle, hosts)?.hosts[1]).toEqual({ name: 'gpu-1', role: 'agent', gpu: true });
    });

    it('drops a host’s override with the host, and replaces or removes one without touching the others', () => {
      const both = {
        ...base,
        hostConfigs: [
          { hostId: 1, config: { name: 'host-core-1.yaml', text: 'a: 1\n' } },
          { hostId: 2, config: override },
        ],
      };
      expect(toggleHost(both, 2, false).hostConfigs).toEqual([both.hostConfigs[0]]);
      const edited = { name: 'host-gpu-1.yaml', text: 'agents:\n  gpu_replicas_per_host: 3\n' };
      expect(withHostConfig(both, 2, edited).hostConfigs).toEqual([both.hostConfigs[0], { hostId: 2, config: edited }]);
      // Replacing the first keeps the hosts' order rather than moving it last.
      expect(withHostConfig(both, 1, { name: 'host-core-1.yaml', text: '' }).hostConfigs.map((c) => c.hostId)).toEqual([1, 2]);
      expect(withHostConfig(both, 1, null).hostConfigs).toEqual([both.hostConfigs[1]]);
    });

    it('names each override after its host, never as another layer is named', () => {
      expect(hostConfigName(base, 'gpu-1')).toBe('host-gpu-1.yaml');
      const taken = {
        ...base,
        config: { name: 'host-gpu-1.yaml', text: '' },
        hostConfigs: [{ hostId: 1, config: { name: 'host-gpu-1-2.yaml', text: '' } }],
      };
      expect(hostConfigName(taken, 'gpu-1')).toBe('host-gpu-1-3.yaml');
    });

    it('checks an override over the install’s values and environment', () => {
      expect(hostCheckParams({ ...base, environment: 'staging' }, override)).toEqual({
        install: [base.config],
        environment: 'staging',
        host: override,
      });
    });

    it('keeps the review away while an override is refused, unchecked or named as another layer, saying which host', () => {
      const draft = { ...base, ...withHostConfig(base, 2, override) };
      expect(hostConfigsProblem(draft, hosts, new Map())).toBe('Checking the override of gpu-1…');
      expect(hostConfigsProblem(draft, hosts, new Map([[2, 'invalid']]))).toBe(
        'Correct the override of gpu-1: the install would stop on it.',
      );
      expect(hostConfigsProblem(draft, hosts, new Map([[2, 'error']]))).toMatch(/override of gpu-1 could not be checked/);
      expect(hostConfigsProblem(draft, hosts, new Map([[2, 'valid']]))).toBeNull();
      // An empty override is no layer: nothing to wait for.
      expect(hostConfigsProblem({ ...base, ...withHostConfig(base, 2, { ...override, text: '' }) }, hosts, new Map())).toBeNull();
      const clash = { ...draft, config: { name: 'host-gpu-1.yaml', text: 'a: 1\n' } };
      expect(hostConfigsProblem(clash, hosts, new Map([[2, 'valid']]))).toMatch(
        /override of gpu-1 has the name host-gpu-1\.yaml, as another layer does/,
      );
    });
  });
});
