import { describe, expect, it } from 'vitest';
import { InstallDefinitionSchema, type BundleSummary, type HostSummary, type Placement } from '../../../electron/contract';
import { definitionOf, hostsProblem, installNameProblem, newWizardDraft, nextStep, previousStep, rolesCoverHosts, rolesFor, rolesProblem, toggleHost } from '../../../renderer/src/wizard/wizard-draft';

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
const placement = (hostId: number, role: Placement['role'], gpu = false): Placement => ({ hostId, name: `h${hostId}`, role, gpu, gpuCount: gpu ? 1 : 0, reason: '' });

describe('the install wizard’s draft, as the window edits it', () => {
  it('walks the steps in order, with nothing before the first or after the last', () => {
    expect(previousStep('bundle')).toBeNull();
    expect(nextStep('configuration')).toBe('review');
    expect(nextStep('done')).toBeNull();
  });

  it('drops a host’s role with the host, and asks again to accept failed checks when the hosts change', () => {
    const draft = { ...newWizardDraft(), hostIds: [1, 2], roles: [{ hostId: 1, role: 'both' as const, gpu: false }, { hostId: 2, role: 'agent' as const, gpu: true }], preflightAccepted: true };
    expect(toggleHost(draft, 2, false)).toEqual({ hostIds: [1], roles: [{ hostId: 1, role: 'both', gpu: false }], preflightAccepted: false });
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
    expect(rolesProblem([{ hostId: 1, role: 'both', gpu: false }, { hostId: 2, role: 'core', gpu: false }])).toMatch(/2 machines would run the core/);
    expect(rolesProblem([{ hostId: 1, role: 'both', gpu: false }, { hostId: 2, role: 'agent', gpu: true }])).toBeNull();
  });

  it('builds the install definition the contract takes, leaving out an empty configuration', () => {
    const draft = {
      ...newWizardDraft(),
      installName: 'lab',
      bundleId: 3,
      hostIds: [2, 1],
      roles: [{ hostId: 1, role: 'both' as const, gpu: false }, { hostId: 2, role: 'agent' as const, gpu: true }],
      environment: 'staging' as const,
    };
    const definition = definitionOf(draft, bundle, [host(1, 'core-1'), host(2, 'gpu-1')]);
    expect(definition).toEqual({ name: 'lab', bundle: 'sutazai@0.1.0', environment: 'staging', config: [], hosts: [{ name: 'gpu-1', role: 'agent', gpu: true }, { name: 'core-1', role: 'both', gpu: false }] });
    expect(InstallDefinitionSchema.safeParse(definition).success).toBe(true);
    const withText = definitionOf({ ...draft, config: { name: 'install.yaml', text: 'runtime:\n  grpc_port: 7601\n' } }, bundle, [host(1, 'core-1'), host(2, 'gpu-1')]);
    expect(withText?.config).toEqual([{ name: 'install.yaml', text: 'runtime:\n  grpc_port: 7601\n' }]);
  });

  it('has no definition while a part is missing: the bundle, a valid name, a role, a host removed since', () => {
    const draft = { ...newWizardDraft(), installName: 'lab', bundleId: 3, hostIds: [1], roles: [{ hostId: 1, role: 'both' as const, gpu: false }] };
    const hosts = [host(1, 'core-1')];
    expect(definitionOf(draft, undefined, hosts)).toBeNull();
    expect(definitionOf({ ...draft, installName: 'no spaces allowed' }, bundle, hosts)).toBeNull();
    expect(definitionOf({ ...draft, roles: [] }, bundle, hosts)).toBeNull();
    expect(definitionOf(draft, bundle, [])).toBeNull();
    expect(installNameProblem('no spaces allowed')).toMatch(/^The install’s name: use 1 to 50 letters/);
  });
});
