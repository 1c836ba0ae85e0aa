import { parse, stringify } from 'yaml';
import { ApiError } from '../../../contract';
import type { InstallConfig } from '../../config/install-config-schema';
import type { InstallRole } from '../definition/install-file';

/**
 * The runtime's process manifest for one host: the bundle's default manifest
 * (manifests/default.yaml: commands, health checks, restart policies) with what the
 * install configuration decides filled in: which processes this host runs (its role),
 * replicas, ports, the programs' settings, and the release directory as their `cwd`.
 */
export interface ManifestInput {
  /** The text of the bundle's manifests/default.yaml. */
  template: string;
  config: InstallConfig;
  role: InstallRole;
  /** Runs GPU agents: `agent-gpu`, agents.gpu_replicas_per_host more instances. */
  gpu: boolean;
  /** The release's runtime directory: the processes' cwd. */
  runtimeDir: string;
  /** host:port of the core for agents on a host without one (the core host's address). */
  remoteCore: string | null;
  /** The IP address the core binds on this host (core.listen_address resolved); loopback by default. */
  coreListenAddress?: string;
  /** Replicas an operator scaled a process to through its runtime (the install's recorded definition): they win over the configuration's. */
  scaledReplicas?: Readonly<Record<string, number>>;
}

/** What the health gate waits for: each process of the manifest and its instance count. */
export interface ExpectedProcess {
  name: string;
  replicas: number;
}

export interface RenderedManifest {
  text: string;
  processes: ExpectedProcess[];
}

interface TemplateProcess {
  name: string;
  env?: Record<string, unknown>;
  health?: { port?: number; host?: string } & Record<string, unknown>;
  stop?: { grace_ms?: number } & Record<string, unknown>;
  replicas?: number;
  depends_on?: string[];
  cwd?: string;
  [key: string]: unknown;
}

// The runtime's stop grace must outlast the program's own, or a stop ends in SIGKILL.
const STOP_GRACE_MARGIN_MS = 2_000;

export function renderManifest(input: ManifestInput): RenderedManifest {
  const { config, role } = input;
  const template = parseTemplate(input.template);
  const find = (name: string): TemplateProcess => {
    const found = template.processes.find((p) => p.name === name);
    if (!found)
      throw new ApiError(
        'BUNDLE_MANIFEST_INVALID',
        `The bundle's process manifest has no "${name}" process.`,
        'Use a bundle built from a SutazAI checkout (npm run bundle).',
      );
    return structuredClone(found);
  };
  const runsCore = role !== 'agent';
  const runsAgents = role !== 'core';
  const processes: TemplateProcess[] = [];

  const listen = input.coreListenAddress ?? '127.0.0.1';
  const wildcard = listen === '0.0.0.0' || listen === '::';
  if (runsCore) {
    const core = find('core');
    core.cwd = input.runtimeDir;
    core.env = {
      ...core.env,
      SUTAZAI_CORE_LISTEN_ADDRESS: listen,
      SUTAZAI_CORE_PORT: config.core.port,
      SUTAZAI_CORE_LEASE_MS: config.core.lease_ms,
      SUTAZAI_CORE_MAX_WAIT_MS: config.core.max_wait_ms,
      SUTAZAI_CORE_MAX_ATTEMPTS: config.core.max_attempts,
      SUTAZAI_CORE_STOP_GRACE_MS: config.core.stop_grace_ms,
      SUTAZAI_LOG_LEVEL: config.core.log_level,
    };
    // The runtime checks the core where it listens (any interface answers on loopback).
    core.health = { ...core.health, port: config.core.port };
    if (!wildcard && listen !== '127.0.0.1') core.health.host = listen;
    core.stop = withGrace(core.stop, config.core.stop_grace_ms);
    processes.push(core);
  }

  const localCore = wildcard ? '127.0.0.1' : listen.includes(':') ? `[${listen}]` : listen;
  const coreAddress = runsCore ? `${localCore}:${config.core.port}` : input.remoteCore;
  const agent = (name: string, replicas: number, basePort: number): void => {
    if (replicas === 0) return;
    if (coreAddress === null)
      throw new ApiError(
        'INSTALL_FILE_INVALID',
        'Agents on a host without a core need the core host, and the install has none.',
        'Give one host of the install role core or both.',
      );
    const spec = find('agent');
    spec.name = name;
    spec.cwd = input.runtimeDir;
    spec.replicas = replicas;
    spec.env = {
      ...spec.env,
      SUTAZAI_CORE_ADDRESS: coreAddress,
      SUTAZAI_AGENT_BASE_PORT: basePort,
      SUTAZAI_AGENT_CAPABILITIES: config.agents.capabilities.join(','),
      SUTAZAI_AGENT_TAKE_WAIT_MS: config.agents.take_wait_ms,
      SUTAZAI_AGENT_STOP_GRACE_MS: config.agents.stop_grace_ms,
      SUTAZAI_LOG_LEVEL: config.agents.log_level,
    };
    spec.health = { ...spec.health, port: basePort };
    spec.stop = withGrace(spec.stop, config.agents.stop_grace_ms);
    // Started once the core answers, where it runs here; a remote core is not the runtime's to order.
    if (runsCore) spec.depends_on = ['core'];
    else delete spec.depends_on;
    processes.push(spec);
  };
  if (runsAgents) {
    agent('agent', config.agents.replicas_per_host, config.agents.base_port);
    if (input.gpu) agent('agent-gpu', config.agents.gpu_replicas_per_host, config.agents.base_port + config.agents.replicas_per_host);
  }
  if (processes.length === 0) {
    throw new ApiError(
      'INSTALL_FILE_INVALID',
      `An ${role} host with agents.replicas_per_host 0 runs nothing.`,
      'Set agents.replicas_per_host to at least 1, or give the host role core or both.',
    );
  }

  for (const process of processes) {
    const scaled = input.scaledReplicas?.[process.name];
    if (scaled !== undefined) process.replicas = scaled;
  }
  const manifest = { version: 1, processes };
  const header =
    "# Written by the SutazAI control center from the bundle's manifests/default.yaml and the install\n# configuration. Apply the install again rather than editing it: a change here is overwritten.\n";
  return {
    text: header + stringify(manifest, { lineWidth: 0 }),
    processes: processes.map((p) => ({ name: p.name, replicas: p.replicas ?? 1 })),
  };
}

function withGrace(stop: TemplateProcess['stop'], programGraceMs: number): TemplateProcess['stop'] {
  const grace = Math.max(stop?.grace_ms ?? 10_000, programGraceMs + STOP_GRACE_MARGIN_MS);
  return { ...stop, grace_ms: grace };
}

function parseTemplate(text: string): { version: number; processes: TemplateProcess[] } {
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    throw new ApiError(
      'BUNDLE_MANIFEST_INVALID',
      `The bundle's process manifest is not valid YAML (${(error as Error).message.split('\n')[0]}).`,
      'Use a bundle built from a SutazAI checkout (npm run bundle).',
      { cause: error },
    );
  }
  const processes = (value as { processes?: unknown } | null)?.processes;
  if (!Array.isArray(processes))
    throw new ApiError(
      'BUNDLE_MANIFEST_INVALID',
      "The bundle's process manifest has no processes: list.",
      'Use a bundle built from a SutazAI checkout (npm run bundle).',
    );
  return { version: 1, processes: processes as TemplateProcess[] };
}
