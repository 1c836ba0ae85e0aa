// What the install writes into a release, checked with the runtime's own parsers: the
// process manifest (roles, replicas, ports from the configuration) and the daemon's config.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRuntimeConfig } from '../../../agents-runtime/src/daemon/runtime-config';
import { parseManifest } from '../../../agents-runtime/src/manifest/parse-manifest';
import { LOG_TIMESTAMPS } from '../../../agents-runtime/src/wire/config-enums';
import { loadInstallConfig } from '../../../electron/backend/config/load-install-config';
import { configDigest } from '../../../electron/backend/install/steps/configure-release';
import { installLayout } from '../../../electron/backend/install/definition/install-layout';
import { coreEndpointFor, coreListenAddress, portsOf } from '../../../electron/backend/install/render/listen-addresses';
import { renderManifest } from '../../../electron/backend/install/render/render-manifest';
import { renderRuntimeConfig } from '../../../electron/backend/install/render/render-runtime-config';

const root = path.resolve(__dirname, '../../..');
const template = fs.readFileSync(path.join(root, 'agents-runtime/manifests/default.yaml'), 'utf8');

function configWith(text = '') {
  return loadInstallConfig({ install: text ? [{ name: 'install.yaml', text }] : [] }).config;
}

describe('the process manifest of a host', () => {
  const layout = installLayout(configWith(), 'system', '/root');
  const release = layout.release('0.1.0');

  it('runs the core and the agents on a both host, with the configured ports, in the release', () => {
    const config = configWith(
      'core: { port: 7800, log_level: debug }\nagents: { replicas_per_host: 3, base_port: 7810, capabilities: [hash] }\n',
    );
    const rendered = renderManifest({ template, config, role: 'both', gpu: false, runtimeDir: release.runtimeDir, remoteCore: null });
    const manifest = parseManifest(rendered.text, 'manifest.yaml');
    expect(rendered.processes).toEqual([
      { name: 'core', replicas: 1 },
      { name: 'agent', replicas: 3 },
    ]);
    const [core, agent] = manifest.processes;
    expect(core).toMatchObject({
      name: 'core',
      cwd: '/opt/sutazai/releases/0.1.0/runtime',
      command: './node',
      args: ['core.cjs'],
      env: { SUTAZAI_CORE_PORT: '7800', SUTAZAI_LOG_LEVEL: 'debug' },
      health: { type: 'grpc', port: 7800 },
    });
    expect(agent).toMatchObject({
      name: 'agent',
      replicas: 3,
      dependsOn: ['core'],
      env: { SUTAZAI_CORE_ADDRESS: '127.0.0.1:7800', SUTAZAI_AGENT_BASE_PORT: '7810', SUTAZAI_AGENT_CAPABILITIES: 'hash' },
      health: { port: 7810 },
    });
    // The runtime's stop grace outlasts each program's own.
    expect(agent!.stop.graceMs).toBeGreaterThan(config.agents.stop_grace_ms);
  });

  it('points agents on an agent host at the core host, and adds GPU agents on the next ports', () => {
    const config = configWith('agents: { replicas_per_host: 2, gpu_replicas_per_host: 1 }\n');
    const rendered = renderManifest({
      template,
      config,
      role: 'agent',
      gpu: true,
      runtimeDir: release.runtimeDir,
      remoteCore: '10.0.0.5:7700',
    });
    const manifest = parseManifest(rendered.text, 'manifest.yaml');
    expect(
      manifest.processes.map((p) => [
        p.name,
        p.replicas,
        p.env.SUTAZAI_AGENT_BASE_PORT,
        p.health?.type === 'grpc' ? p.health.port : null,
        p.dependsOn,
      ]),
    ).toEqual([
      ['agent', 2, '7710', 7710, []],
      ['agent-gpu', 1, '7712', 7712, []],
    ]);
    expect(manifest.processes[0]!.env.SUTAZAI_CORE_ADDRESS).toBe('10.0.0.5:7700');
  });

  it('makes the core listen where agents on other hosts reach it, and checks it there', () => {
    const loopback = renderManifest({
      template,
      config: configWith(),
      role: 'both',
      gpu: false,
      runtimeDir: release.runtimeDir,
      remoteCore: null,
      coreListenAddress: coreListenAddress(configWith(), false),
    });
    const [core] = parseManifest(loopback.text, 'manifest.yaml').processes;
    expect(core!.env.SUTAZAI_CORE_LISTEN_ADDRESS).toBe('127.0.0.1');

    // auto, with agent-only hosts in the install: every interface; the runtime checks it on loopback, agents beside it dial loopback.
    const everywhere = parseManifest(
      renderManifest({
        template,
        config: configWith(),
        role: 'both',
        gpu: false,
        runtimeDir: release.runtimeDir,
        remoteCore: null,
        coreListenAddress: coreListenAddress(configWith(), true),
      }).text,
      'manifest.yaml',
    );
    expect(
      everywhere.processes.map((p) => [
        p.name,
        p.env.SUTAZAI_CORE_LISTEN_ADDRESS ?? p.env.SUTAZAI_CORE_ADDRESS,
        p.health?.type === 'grpc' ? p.health.host : null,
      ]),
    ).toEqual([
      ['core', '0.0.0.0', '127.0.0.1'],
      ['agent', '127.0.0.1:7700', '127.0.0.1'],
    ]);

    // An address of the host: bound there, checked there, dialled there.
    const pinned = configWith('core: { listen_address: 10.0.0.5 }\n');
    const one = parseManifest(
      renderManifest({
        template,
        config: pinned,
        role: 'both',
        gpu: false,
        runtimeDir: release.runtimeDir,
        remoteCore: null,
        coreListenAddress: coreListenAddress(pinned, true),
      }).text,
      'manifest.yaml',
    );
    expect(
      one.processes.map((p) => [
        p.env.SUTAZAI_CORE_LISTEN_ADDRESS ?? p.env.SUTAZAI_CORE_ADDRESS,
        p.health?.type === 'grpc' ? p.health.host : null,
      ]),
    ).toEqual([
      ['10.0.0.5', '10.0.0.5'],
      ['10.0.0.5:7700', '127.0.0.1'],
    ]);
    expect(coreEndpointFor(pinned, 'core-1.lab', true)).toBe('10.0.0.5:7700');
    expect(coreEndpointFor(configWith(), '10.0.0.9', true)).toBe('10.0.0.9:7700');
    expect(coreEndpointFor(configWith('core: { port: 7800 }\n'), 'fd00::9', true)).toBe('[fd00::9]:7800');
    expect(() => configWith('core: { listen_address: core.example }\n')).toThrow(/must be auto or an IP address/);
  });

  it('runs only the core on a core host, and refuses a host that would run nothing', () => {
    const config = configWith('agents: { replicas_per_host: 0 }\n');
    expect(
      renderManifest({ template, config, role: 'core', gpu: true, runtimeDir: release.runtimeDir, remoteCore: null }).processes,
    ).toEqual([{ name: 'core', replicas: 1 }]);
    expect(() =>
      renderManifest({ template, config, role: 'agent', gpu: false, runtimeDir: release.runtimeDir, remoteCore: '10.0.0.5:7700' }),
    ).toThrow(/runs nothing/);
  });
});

describe("the runtime's config file", () => {
  it('names the release files absolutely, the install state and log directories, and the ports', () => {
    const config = configWith('runtime: { grpc_port: 7601, metrics_port: 9465, logs: { keep_files: 2 } }\n');
    const layout = installLayout(config, 'system', '/root');
    const release = layout.release('0.1.0');
    const text = renderRuntimeConfig(config, layout, release, 'lab');
    // Parsed as if it sat at the documented link, whose directory is not the release's.
    const parsed = parseRuntimeConfig(text, '/etc/sutazai/runtime.yaml');
    expect(parsed).toMatchObject({
      manifest: '/opt/sutazai/releases/0.1.0/etc/manifest.yaml',
      listen: '127.0.0.1:7601',
      tls: {
        ca: '/opt/sutazai/releases/0.1.0/etc/tls/ca.pem',
        cert: '/opt/sutazai/releases/0.1.0/etc/tls/runtime.pem',
        key: '/opt/sutazai/releases/0.1.0/etc/tls/runtime.key',
      },
      stateDir: '/var/lib/sutazai-runtime',
      logDir: '/var/log/sutazai',
      logs: { keepFiles: 2 },
      metrics: { listen: '127.0.0.1:9465' },
    });
  });

  it('carries each way of stamping log lines the runtime knows (the log collector too) from the install config to the runtime', () => {
    for (const timestamps of LOG_TIMESTAMPS) {
      const config = configWith(`runtime: { logs: { timestamps: ${timestamps} } }\n`);
      const layout = installLayout(config, 'system', '/root');
      const parsed = parseRuntimeConfig(renderRuntimeConfig(config, layout, layout.release('0.1.0'), 'lab'), '/x/runtime.yaml');
      expect(parsed.logTimestamps).toBe(timestamps);
    }
    expect(LOG_TIMESTAMPS).toContain('collector');
    expect(() => configWith('runtime: { logs: { timestamps: collectors } }\n')).toThrow();
    expect(() =>
      parseRuntimeConfig(
        'manifest: m\ntls: { ca: a, cert: b, key: c }\nstate_dir: s\nlog_dir: l\nlogs: { timestamps: fifo }\n',
        '/x/r.yaml',
      ),
    ).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('serves /metrics beyond loopback only when runtime.metrics_listen_address says so, whatever the gRPC address', () => {
    const grpcOpen = configWith('runtime: { listen_address: 0.0.0.0 }\n');
    const layout = installLayout(grpcOpen, 'system', '/root');
    const parsed = parseRuntimeConfig(renderRuntimeConfig(grpcOpen, layout, layout.release('0.1.0'), 'lab'), '/x/runtime.yaml');
    expect(parsed).toMatchObject({ listen: '0.0.0.0:7600', metrics: { listen: '127.0.0.1:9464' } });
    const metricsOpen = configWith('runtime: { metrics_listen_address: 10.0.0.5 }\n');
    const text = renderRuntimeConfig(metricsOpen, layout, layout.release('0.1.0'), 'lab');
    expect(parseRuntimeConfig(text, '/x/runtime.yaml')).toMatchObject({ listen: '127.0.0.1:7600', metrics: { listen: '10.0.0.5:9464' } });
  });

  it('keeps a per-user install under the user directory, and leaves metrics out when they are off', () => {
    const config = configWith('system_integration: { monitoring: { metrics_collection: none } }\nruntime: { listen_address: "::1" }\n');
    const layout = installLayout(config, 'user', '/home/ops');
    const parsed = parseRuntimeConfig(renderRuntimeConfig(config, layout, layout.release('0.1.0'), 'lab'), '/x/runtime.yaml');
    expect(parsed).toMatchObject({
      listen: '[::1]:7600',
      stateDir: '/home/ops/.local/share/sutazai/state',
      logDir: '/home/ops/.local/share/sutazai/log',
      metrics: null,
    });
    expect(parsed.manifest).toBe('/home/ops/.local/share/sutazai/releases/0.1.0/etc/manifest.yaml');
  });

  it('has a digest that changes with what was decided, not with a fresh certificate', () => {
    const files = { runtimeYaml: 'a', manifestYaml: 'b', caCertPem: 'c', serverNames: ['db-1', '10.0.0.5'] };
    expect(configDigest(files)).toBe(configDigest({ ...files, serverNames: ['10.0.0.5', 'db-1'] }));
    expect(configDigest(files)).not.toBe(configDigest({ ...files, manifestYaml: 'b2' }));
    expect(configDigest(files)).not.toBe(configDigest({ ...files, runtimeYaml: 'ab', manifestYaml: '' }));
  });
});

describe('the ports a host listens on', () => {
  it("are the runtime's, the core's where it runs, and one per agent, each with its key", () => {
    const config = configWith('agents: { replicas_per_host: 2, gpu_replicas_per_host: 1 }\n');
    expect(portsOf(config, 'both', false).map((p) => `${p.key}=${p.port}`)).toEqual([
      'runtime.grpc_port=7600',
      'runtime.metrics_port=9464',
      'core.port=7700',
      'agents.base_port=7710',
      'agents.base_port=7711',
    ]);
    expect(portsOf(config, 'agent', true).map((p) => p.port)).toEqual([7600, 9464, 7710, 7711, 7712]);
    const quiet = configWith('system_integration: { monitoring: { metrics_collection: none } }\n');
    expect(portsOf(quiet, 'core', false).map((p) => p.port)).toEqual([7600, 7700]);
  });
});
