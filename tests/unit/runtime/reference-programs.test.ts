import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAgentConfig } from '../../../agents-runtime/programs/agent/config';
import { hashRepeated, runTask } from '../../../agents-runtime/programs/agent/run-task';
import { readCoreConfig } from '../../../agents-runtime/programs/core/config';
import { findProtoDir } from '../../../agents-runtime/programs/shared/protos';
import { parseManifest } from '../../../agents-runtime/src/manifest/parse-manifest';
import { expandReplicas, replicaHealth } from '../../../agents-runtime/src/manifest/dependency-order';
import { makeTempDir } from '../../support/temp-dir';

describe('agent and core settings', () => {
  it('puts replica N of the agent on base port + N - 1, as the manifest health check expects', () => {
    expect(readAgentConfig({}).healthPort).toBe(7710);
    expect(readAgentConfig({ SUTAZAI_REPLICA: '3' }).healthPort).toBe(7712);
    expect(readAgentConfig({ SUTAZAI_REPLICA: '2', SUTAZAI_AGENT_BASE_PORT: '9000' }).healthPort).toBe(9001);
    expect(readAgentConfig({ SUTAZAI_REPLICA: '2', SUTAZAI_AGENT_PORT: '4242' }).healthPort).toBe(4242);
    expect(readAgentConfig({ SUTAZAI_INSTANCE: 'agent-2' })).toMatchObject({ agentId: 'agent-2', coreAddress: '127.0.0.1:7700' });
    expect(readAgentConfig({ SUTAZAI_AGENT_CAPABILITIES: 'hash, sleep,' }).capabilities).toEqual(['hash', 'sleep']);
  });

  it('refuses nonsense settings with the variable named', () => {
    expect(() => readAgentConfig({ SUTAZAI_REPLICA: 'two' })).toThrow(/SUTAZAI_REPLICA/);
    expect(() => readAgentConfig({ SUTAZAI_CORE_ADDRESS: 'localhost' })).toThrow(/host:port/);
    expect(() => readAgentConfig({ SUTAZAI_AGENT_BASE_PORT: '65535', SUTAZAI_REPLICA: '2' })).toThrow(/past 65535/);
    expect(() => readCoreConfig({ SUTAZAI_CORE_PORT: '70000' })).toThrow(/SUTAZAI_CORE_PORT/);
    expect(() => readCoreConfig({ SUTAZAI_CORE_LEASE_MS: '10' })).toThrow(/SUTAZAI_CORE_LEASE_MS/);
    expect(readCoreConfig({})).toEqual({
      listenAddress: '127.0.0.1',
      port: 7700,
      leaseMs: 15_000,
      maxWaitMs: 10_000,
      maxAttempts: 5,
      stopGraceMs: 5_000,
    });
    expect(readCoreConfig({ SUTAZAI_CORE_LISTEN_ADDRESS: '0.0.0.0' }).listenAddress).toBe('0.0.0.0');
    expect(() => readCoreConfig({ SUTAZAI_CORE_LISTEN_ADDRESS: 'core.example' })).toThrow(/SUTAZAI_CORE_LISTEN_ADDRESS/);
  });
});

describe('proto directory', () => {
  it('prefers proto/ next to the running file, then the source layout', () => {
    const dir = makeTempDir();
    try {
      fs.cpSync(path.resolve('agents-runtime/proto'), path.join(dir.path, 'proto'), { recursive: true });
      expect(findProtoDir({}, path.join(dir.path, 'core.cjs'), '/nonexistent')).toBe(path.join(dir.path, 'proto'));
      expect(findProtoDir({}, path.resolve('agents-runtime/programs/core.ts'), '/nonexistent')).toBe(path.resolve('agents-runtime/proto'));
      expect(() => findProtoDir({ SUTAZAI_PROTO_DIR: path.join(dir.path, 'nope') }, path.join(dir.path, 'core.cjs'))).toThrow(
        /SUTAZAI_PROTO_DIR/,
      );
    } finally {
      dir.remove();
    }
  });
});

describe('tasks', () => {
  it('hashes the payload repeated N times (0 counts as 1)', async () => {
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    expect(await hashRepeated('abc', 0)).toBe(sha('abc'));
    expect(await hashRepeated('abc', 3)).toBe(sha('abcabcabc'));
    expect(await hashRepeated('é', 20_001)).toBe(sha('é'.repeat(20_001)));
  });

  it('runs sleep and fail deterministically, and stops a sleep on abort', async () => {
    const never = new AbortController().signal;
    expect(await runTask({ kind: 'sleep', payload: '', repeat: 0, sleepMs: 5 }, never)).toEqual({ ok: true, output: 'slept 5 ms' });
    expect(await runTask({ kind: 'fail', payload: 'why', repeat: 0, sleepMs: 0 }, never)).toEqual({
      ok: false,
      output: 'failed on purpose: why',
    });
    const abort = new AbortController();
    const sleeping = runTask({ kind: 'sleep', payload: '', repeat: 0, sleepMs: 60_000 }, abort.signal);
    abort.abort(new Error('stop'));
    await expect(sleeping).rejects.toThrow();
  });
});

describe('agents-runtime/manifests/default.yaml', () => {
  it('parses: one core, two agents depending on it, grpc health on 7700 and 7710 + N - 1', () => {
    const file = path.resolve('agents-runtime/manifests/default.yaml');
    const manifest = parseManifest(fs.readFileSync(file, 'utf8'), file);
    const [core, agent] = manifest.processes;
    expect(manifest.processes.map((p) => p.name)).toEqual(['core', 'agent']);
    expect(core).toMatchObject({ args: ['core.cjs'], replicas: 1, health: { type: 'grpc', port: 7700, host: '127.0.0.1' } });
    expect(agent).toMatchObject({ args: ['agent.cjs'], replicas: 2, dependsOn: ['core'], health: { type: 'grpc', port: 7710 } });
    expect(expandReplicas(agent!)).toEqual(['agent-1', 'agent-2']);
    expect(replicaHealth(agent!.health!, 2)).toMatchObject({ port: 7711 });
    // The programs' own defaults agree with the manifest.
    expect(Number(core!.env.SUTAZAI_CORE_PORT)).toBe(readCoreConfig({}).port);
    expect(readAgentConfig({ ...agent!.env, SUTAZAI_REPLICA: '2' }).healthPort).toBe(7711);
    expect(readAgentConfig(agent!.env).coreAddress).toBe(`127.0.0.1:${core!.health!.type === 'grpc' ? core!.health!.port : 0}`);
    // Each program stops itself before the runtime's grace runs out.
    expect(Number(core!.env.SUTAZAI_CORE_STOP_GRACE_MS)).toBeLessThan(core!.stop.graceMs);
    expect(Number(agent!.env.SUTAZAI_AGENT_STOP_GRACE_MS)).toBeLessThan(agent!.stop.graceMs);
  });
});
