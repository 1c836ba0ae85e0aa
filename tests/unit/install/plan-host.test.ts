import { describe, expect, it } from 'vitest';
import { loadInstallConfig } from '../../../electron/backend/config/load-install-config';
import type { HostCheck } from '../../../electron/backend/install/plan/host-check';
import { installLayout } from '../../../electron/backend/install/definition/install-layout';
import { manifestVersionOf } from '../../../agents-runtime/src/wire';
import { currentReleaseOf, planHostSteps, previousRelease, type PlanHostInput } from '../../../electron/backend/install/plan/plan-host';

const MiB = 1024 * 1024;
const SHA = 'a'.repeat(64);
const DIGEST = 'd'.repeat(64);
const MANIFEST =
  'version: 1\nprocesses:\n  - { name: core, command: node, env: { LEVEL: info } }\n  - { name: agent, command: node, replicas: 2 }\n';
const layout = installLayout(loadInstallConfig().config, 'system', '/root');
const release = layout.release('0.2.0');

function freshCheck(): HostCheck {
  return {
    home: '/root',
    uid: 0,
    machine: 'x86_64',
    pid1: 'systemd',
    systemdRunning: true,
    availableBytes: 10_000 * MiB,
    spacePath: '/',
    stagedBundle: null,
    partialSize: null,
    release: { present: false, marker: null },
    configDigest: null,
    manifestText: null,
    tlsFiles: new Set(),
    current: null,
    currentExists: false,
    configLink: null,
    dirs: new Set(),
    absent: new Map(),
    unit: null,
    startScriptSha256: null,
    stopScriptSha256: null,
    daemon: null,
    busyPorts: [],
  };
}

/** What a host looks like once 0.2.0 was applied to it completely. */
function installedCheck(): HostCheck {
  return {
    ...freshCheck(),
    release: { present: true, marker: SHA },
    configDigest: { value: DIGEST, mtime: 1000 },
    tlsFiles: new Set(['ca', 'cert', 'key']),
    current: 'releases/0.2.0',
    currentExists: true,
    configLink: '/opt/sutazai/current/etc/runtime.yaml',
    dirs: new Set(['config', 'state', 'log', 'staging']),
    unit: { sha256: 'u'.repeat(64), enabled: 'enabled' },
    daemon: { pid: 4242, release: '0.2.0', since: 1001 },
  };
}

function input(check: HostCheck, overrides: Partial<PlanHostInput> = {}): PlanHostInput {
  return {
    hostName: 'db-1',
    connectDetail: 'logged in as root',
    check,
    layout,
    release,
    bundleSha256: SHA,
    bundleSize: 100 * MiB,
    arch: 'linux-x64',
    bundleArchitectures: ['linux-x64'],
    configDigest: DIGEST,
    manifestYaml: MANIFEST,
    service: 'systemd',
    serviceSha256: { unit: 'u'.repeat(64) },
    recorded: { version: '0.2.0', bundleSha256: SHA },
    runtime: { healthy: true, summary: 'core running 1/1, agent running 2/2', failing: [] },
    healthTimeoutSeconds: 120,
    freeSpaceMarginBytes: 64 * MiB,
    ports: [
      { port: 7600, key: 'runtime.grpc_port' },
      { port: 9464, key: 'runtime.metrics_port' },
      { port: 7700, key: 'core.port' },
      { port: 7710, key: 'agents.base_port' },
      { port: 7711, key: 'agents.base_port' },
    ],
    ...overrides,
  };
}

const states = (plan: ReturnType<typeof planHostSteps>) => Object.fromEntries(plan.steps.map((s) => [s.step, s.state]));

describe('the plan of one host', () => {
  it('on a fresh host: every step to do, the checks to run, nothing blocked', () => {
    const plan = planHostSteps(input(freshCheck(), { recorded: null, runtime: null }));
    expect(states(plan)).toEqual({
      connect: 'done',
      'check-space': 'check',
      upload: 'todo',
      unpack: 'todo',
      configure: 'todo',
      service: 'todo',
      start: 'todo',
      health: 'check',
      switch: 'todo',
      record: 'todo',
    });
    expect(plan.blocked).toBeNull();
    expect(plan.steps.find((s) => s.step === 'check-space')!.detail).toBe(
      '10000 MiB free on /; needs 264 MiB (200 MiB to store and a 64 MiB margin)',
    );
  });

  it('on a host that has it all: every step done, so apply changes nothing', () => {
    const plan = planHostSteps(input(installedCheck()));
    expect(Object.values(states(plan))).toEqual(Array(10).fill('done'));
    expect(plan.steps.find((s) => s.step === 'health')!.detail).toBe('core running 1/1, agent running 2/2');
  });

  it('refuses a host without room for the upload and the release, before anything is changed', () => {
    const plan = planHostSteps(input({ ...freshCheck(), availableBytes: 150 * MiB, spacePath: '/opt' }, { recorded: null, runtime: null }));
    expect(states(plan)['check-space']).toBe('blocked');
    expect(plan.blocked).toMatchObject({
      code: 'INSTALL_NO_SPACE',
      message: 'db-1 has 150 MiB free on /opt and the install needs 264 MiB there; nothing was changed.',
    });
  });

  it('counts what a partial upload already holds, and resumes it', () => {
    const plan = planHostSteps(
      input({ ...freshCheck(), partialSize: 60 * MiB, availableBytes: 210 * MiB }, { recorded: null, runtime: null }),
    );
    expect(states(plan)['check-space']).toBe('check');
    expect(plan.steps.find((s) => s.step === 'upload')!.detail).toBe('resumes at 60 MiB of 100 MiB once the bytes there are verified');
  });

  it('never uploads a bundle that is there and verified, nor one whose release is unpacked', () => {
    const verified = planHostSteps(
      input({ ...freshCheck(), stagedBundle: { size: 100 * MiB, verifiedSha256: SHA } }, { recorded: null, runtime: null }),
    );
    expect(states(verified)).toMatchObject({ upload: 'done', unpack: 'todo' });
    const unverified = planHostSteps(
      input({ ...freshCheck(), stagedBundle: { size: 100 * MiB, verifiedSha256: null } }, { recorded: null, runtime: null }),
    );
    expect(states(unverified).upload).toBe('todo');
    const unpacked = planHostSteps(input({ ...freshCheck(), release: { present: true, marker: SHA } }, { recorded: null, runtime: null }));
    expect(states(unpacked)).toMatchObject({ 'check-space': 'done', upload: 'done', unpack: 'done', configure: 'todo' });
  });

  it('writes the configuration again when it changed, and then restarts the runtime', () => {
    const plan = planHostSteps(input(installedCheck(), { configDigest: 'e'.repeat(64) }));
    expect(states(plan)).toMatchObject({ configure: 'todo', service: 'done', start: 'todo', health: 'check', switch: 'done' });
    expect(plan.steps.find((s) => s.step === 'start')!.detail).toBe('restarts the runtime (pid 4242) for its new configuration');
  });

  it('restarts a runtime started before its configuration was last written', () => {
    const check = installedCheck();
    check.daemon = { ...check.daemon!, since: 999 };
    expect(states(planHostSteps(input(check)))).toMatchObject({ configure: 'done', start: 'todo', health: 'check' });
  });

  it('stops a runtime of another release and starts this one, switching current after the health check', () => {
    const check = installedCheck();
    check.release = { present: false, marker: null };
    check.current = 'releases/0.1.0';
    check.daemon = { pid: 77, release: '0.1.0', since: 5 };
    const plan = planHostSteps(input(check, { recorded: { version: '0.1.0', bundleSha256: 'b'.repeat(64) } }));
    expect(states(plan)).toMatchObject({ upload: 'todo', unpack: 'todo', start: 'todo', switch: 'todo', record: 'todo' });
    expect(plan.steps.find((s) => s.step === 'start')!.detail).toBe('stops the runtime of release 0.1.0 (pid 77), starts this release');
    expect(plan.steps.find((s) => s.step === 'switch')!.detail).toBe('current -> releases/0.2.0 (was releases/0.1.0)');
    // An upgrade says where a failing release returns to.
    expect(plan.steps.find((s) => s.step === 'health')!.detail).toMatch(/; if they do not, the host returns to 0\.1\.0$/);
    expect(currentReleaseOf(check)).toBe('0.1.0');
    expect(previousRelease(check, '0.2.0')).toBe('0.1.0');
    expect(previousRelease(installedCheck(), '0.2.0')).toBeNull();
  });

  it('refuses a port another process listens on, naming the port, its key and the process, before anything is written', () => {
    const check: HostCheck = {
      ...freshCheck(),
      busyPorts: [{ port: 7700, pid: 4321, ours: false, command: 'python3 -m http.server 7700' }],
    };
    const plan = planHostSteps(input(check, { recorded: null, runtime: null }));
    expect(states(plan).start).toBe('blocked');
    expect(plan.steps.filter((s) => s.step === 'start')).toHaveLength(1);
    expect(plan.blocked).toMatchObject({
      code: 'INSTALL_PORT_IN_USE',
      message:
        "On db-1, port 7700 (core.port) is taken by pid 4321 (python3 -m http.server 7700), which is not this install's runtime; nothing was changed.",
      remedy: 'Stop that process on db-1, or give this install other ports (core.port) in its configuration, then apply again.',
    });
    const hidden = planHostSteps(
      input({ ...freshCheck(), busyPorts: [{ port: 7711, pid: null, ours: false, command: '' }] }, { recorded: null, runtime: null }),
    );
    expect(hidden.blocked?.message).toContain("port 7711 (agents.base_port) is taken by a process this login cannot see (another user's)");
  });

  it('takes the ports its own runtime holds for its own, in an upgrade as on a re-apply', () => {
    const check = installedCheck();
    check.busyPorts = [7600, 9464, 7700, 7710, 7711].map((port) => ({ port, pid: 4242, ours: true, command: 'node sutazai-runtime.cjs' }));
    check.current = 'releases/0.1.0';
    check.release = { present: false, marker: null };
    const plan = planHostSteps(input(check, { recorded: { version: '0.1.0', bundleSha256: 'b'.repeat(64) } }));
    expect(plan.blocked).toBeNull();
    expect(states(plan).start).toBe('todo');
  });

  it('wants the detached scripts where there is no systemd, and an enabled unit where there is', () => {
    const detached = planHostSteps(
      input(installedCheck(), { service: 'detached', serviceSha256: { start: 's'.repeat(64), stop: 't'.repeat(64) } }),
    );
    expect(states(detached).service).toBe('todo');
    const disabled = installedCheck();
    disabled.unit = { sha256: 'u'.repeat(64), enabled: 'disabled' };
    expect(states(planHostSteps(input(disabled))).service).toBe('todo');
  });

  it('blocks a host of an architecture the bundle has no Node for, and a `current` that is not a link', () => {
    const arm = planHostSteps(input({ ...freshCheck(), machine: 'aarch64' }, { arch: 'linux-arm64', recorded: null, runtime: null }));
    expect(arm.blocked).toMatchObject({
      code: 'INSTALL_ARCH_UNSUPPORTED',
      message: expect.stringContaining('carries Node only for linux-x64'),
    });
    const odd = planHostSteps(input({ ...freshCheck(), machine: 'riscv64' }, { arch: null, recorded: null, runtime: null }));
    expect(odd.blocked?.code).toBe('INSTALL_ARCH_UNSUPPORTED');
    const directory = planHostSteps(input({ ...freshCheck(), currentExists: true, current: null }, { recorded: null, runtime: null }));
    expect(states(directory).switch).toBe('blocked');
    expect(directory.blocked?.code).toBe('INSTALL_CONFLICT');
  });

  it('refuses to replace the current release with another bundle of the same version', () => {
    const check = installedCheck();
    check.release = { present: true, marker: 'f'.repeat(64) };
    const plan = planHostSteps(input(check));
    expect(states(plan).unpack).toBe('blocked');
    expect(plan.blocked?.code).toBe('INSTALL_CONFLICT');
  });

  it('waits for health when the runtime did not say it is healthy', () => {
    const plan = planHostSteps(
      input(installedCheck(), { runtime: { healthy: false, summary: 'agent running 1/2: agent-2 backoff', failing: ['agent-2'] } }),
    );
    expect(states(plan).health).toBe('check');
    expect(plan.steps.find((s) => s.step === 'health')!.detail).toBe(
      'waits up to 120 s for the core and agents to report healthy (now: agent running 1/2: agent-2 backoff)',
    );
  });
});

describe('a change of the manifest alone', () => {
  const runtimeWord = 'r'.repeat(64);
  /** A host whose digest carries the runtime's word, running since after it was written. */
  function reloadable(): HostCheck {
    return { ...installedCheck(), configDigest: { value: `${DIGEST} runtime:${runtimeWord}`, mtime: 1000 }, manifestText: MANIFEST };
  }
  const changed = MANIFEST.replace('LEVEL: info', 'LEVEL: debug').replace('replicas: 2', 'replicas: 3');

  it('sends the new manifest to the running runtime and names the processes it restarts, scales and keeps', () => {
    const plan = planHostSteps(input(reloadable(), { configDigest: `${'e'.repeat(64)} runtime:${runtimeWord}`, manifestYaml: changed }));
    expect(states(plan)).toMatchObject({ configure: 'todo', service: 'done', start: 'todo', health: 'check' });
    expect(plan.reload?.diff).toEqual({
      unchanged: [],
      scaled: [{ name: 'agent', from: 2, to: 3 }],
      changed: [{ name: 'core', fields: ['env'] }],
      added: [],
      removed: [],
    });
    expect(plan.steps.find((s) => s.step === 'start')!.detail).toBe(
      'the runtime (pid 4242) keeps running and takes the new manifest: restarts core (env changed); scales agent 2 -> 3; keeps agent running',
    );
  });

  it('restarts the runtime when its own configuration changes, or when it is not known to be the one it started with', () => {
    const runtimeChanged = planHostSteps(
      input(reloadable(), { configDigest: `${'e'.repeat(64)} runtime:${'s'.repeat(64)}`, manifestYaml: changed }),
    );
    expect(runtimeChanged.reload).toBeNull();
    expect(runtimeChanged.steps.find((s) => s.step === 'start')!.detail).toBe(
      "restarts the runtime (pid 4242) for its new configuration: the runtime's own configuration (runtime.yaml, its CA or certificate names) changed, so every process restarts",
    );
    // Written by an older control center: no runtime word to compare.
    const older = planHostSteps(
      input(
        { ...reloadable(), configDigest: { value: DIGEST, mtime: 1000 } },
        { configDigest: `${'e'.repeat(64)} runtime:${runtimeWord}`, manifestYaml: changed },
      ),
    );
    expect(older.reload).toBeNull();
    // Started before the runtime's part was written, or not answering: it cannot take the manifest in place.
    const stale = reloadable();
    stale.daemon = { ...stale.daemon!, since: 999 };
    expect(
      planHostSteps(input(stale, { configDigest: `${'e'.repeat(64)} runtime:${runtimeWord}`, manifestYaml: changed })).reload,
    ).toBeNull();
    expect(
      planHostSteps(input(reloadable(), { configDigest: `${'e'.repeat(64)} runtime:${runtimeWord}`, manifestYaml: changed, runtime: null }))
        .reload,
    ).toBeNull();
  });

  it('is done once the runtime runs the manifest the host has, and still to send when it does not', () => {
    const same = `${DIGEST} runtime:${runtimeWord}`;
    const runs = (version: string) => ({
      healthy: true,
      summary: 'core running 1/1, agent running 2/2',
      failing: [],
      manifestVersion: version,
    });
    const done = planHostSteps(input(reloadable(), { configDigest: same, runtime: runs(manifestVersionOf(MANIFEST)) }));
    expect(states(done)).toMatchObject({ configure: 'done', start: 'done', health: 'done' });
    const unsent = planHostSteps(input(reloadable(), { configDigest: same, runtime: runs('sha256:0000000000000000') }));
    expect(states(unsent)).toMatchObject({ configure: 'done', start: 'todo' });
    expect(unsent.reload?.detail).toBe(
      'the runtime (pid 4242) keeps running and takes the new manifest: restarts no process; keeps core, agent running',
    );
  });
});
