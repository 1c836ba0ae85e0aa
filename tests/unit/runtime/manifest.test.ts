import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandReplicas, replicaHealth, startOrder, stopOrder } from '../../../agents-runtime/src/manifest/dependency-order';
import {
  DEFAULT_MANIFEST_LIMITS,
  DEFAULTS,
  toProcessSpec,
  type Manifest,
  type ManifestLimits,
} from '../../../agents-runtime/src/manifest/manifest-schema';
import { parseManifest } from '../../../agents-runtime/src/manifest/parse-manifest';
import { RuntimeError } from '../../../agents-runtime/src/runtime-error';

function refusal(text: string): RuntimeError {
  return refusalWith(text, DEFAULT_MANIFEST_LIMITS);
}

function refusalWith(text: string, limits: ManifestLimits): RuntimeError {
  try {
    parseManifest(text, 'runtime.yaml', limits);
  } catch (error) {
    expect(error).toBeInstanceOf(RuntimeError);
    return error as RuntimeError;
  }
  throw new Error('manifest was accepted');
}

function manifestOf(deps: Record<string, string[]>): Manifest {
  return {
    version: 1,
    processes: Object.entries(deps).map(([name, dependsOn]) => ({ ...toProcessSpec({ name, command: 'x' }), dependsOn })),
  };
}

describe('parseManifest', () => {
  it('parses the shipped example with snake_case mapped to camelCase and defaults filled', () => {
    const file = path.resolve('agents-runtime/manifests/example.yaml');
    const manifest = parseManifest(fs.readFileSync(file, 'utf8'), file);
    expect(manifest.processes.map((p) => p.name)).toEqual(['core', 'agent', 'indexer']);
    const [core, agent, indexer] = manifest.processes;
    expect(core?.health).toMatchObject({
      type: 'grpc',
      port: 7400,
      host: '127.0.0.1',
      intervalMs: 5000,
      unhealthyThreshold: 3,
      startPeriodMs: 10000,
      startIntervalMs: 1000,
    });
    expect(core?.crashLoop).toEqual({ afterRestarts: 5, withinMs: 60000, retryEveryMs: 300000 });
    expect(core?.resources).toEqual({ cpu: 1, memoryMb: 512 });
    expect(agent).toMatchObject({ replicas: 3, dependsOn: ['core'], restart: 'on-failure', stop: { signal: 'SIGINT', graceMs: 5000 } });
    expect(agent?.backoff).toEqual(DEFAULTS.backoff);
    expect(indexer?.health).toMatchObject({ type: 'exec', command: '/opt/sutazai/bin/indexer', args: ['--check'], timeoutMs: 3000 });
  });

  it('fills defaults for a minimal process', () => {
    const manifest = parseManifest('version: 1\nprocesses:\n  - name: core\n    command: /bin/core\n', 'm.yaml');
    expect(manifest.processes[0]).toEqual({
      name: 'core',
      command: '/bin/core',
      args: [],
      env: {},
      replicas: 1,
      dependsOn: [],
      restart: 'always',
      backoff: { initialMs: 1000, factor: 2, maxMs: 60000, jitter: 0.2, resetAfterMs: 60000 },
      stop: { signal: 'SIGTERM', graceMs: 10000 },
      resources: {},
      crashLoop: { afterRestarts: 5, withinMs: 60000, retryEveryMs: 300000 },
    });
  });

  it('backoff initial_ms 0 restarts at once (PM2 restart_delay 0); a negative one is refused with its path', () => {
    const manifest = parseManifest('version: 1\nprocesses:\n  - name: a\n    command: x\n    backoff: { initial_ms: 0 }\n', 'm.yaml');
    expect(manifest.processes[0]?.backoff.initialMs).toBe(0);
    expect(refusal('version: 1\nprocesses:\n  - name: a\n    command: x\n    backoff: { initial_ms: -1 }\n').message).toContain(
      'processes.0.backoff.initial_ms',
    );
  });

  it('checks while starting every start_interval_ms: 1000 by default, interval_ms when that is shorter, as set when set; 0 refused', () => {
    const health = (fields: string) =>
      parseManifest(`version: 1\nprocesses:\n  - name: a\n    command: x\n    health: { type: tcp, port: 80${fields} }\n`, 'm.yaml')
        .processes[0]?.health;
    expect(health('')).toMatchObject({ intervalMs: 5000, startIntervalMs: 1000 });
    expect(health(', interval_ms: 400')).toMatchObject({ intervalMs: 400, startIntervalMs: 400 });
    expect(health(', interval_ms: 400, start_interval_ms: 2500')).toMatchObject({ intervalMs: 400, startIntervalMs: 2500 });
    expect(
      refusal('version: 1\nprocesses:\n  - name: a\n    command: x\n    health: { type: tcp, port: 80, start_interval_ms: 0 }\n').message,
    ).toContain('processes.0.health.start_interval_ms');
  });

  it('turns numbers and booleans in env into the strings the environment holds', () => {
    const manifest = parseManifest(
      'version: 1\nprocesses:\n  - name: a\n    command: x\n    env: { PORT: 8080, DEBUG: true, NAME: core }\n',
      'm',
    );
    expect(manifest.processes[0]?.env).toEqual({ PORT: '8080', DEBUG: 'true', NAME: 'core' });
  });

  it('names file, line, column and field path of a bad value', () => {
    const text = [
      'version: 1',
      'processes:',
      '  - name: core',
      '    command: /bin/core',
      '  - name: agent',
      '    command: /bin/agent',
      '  - name: web',
      '    command: /bin/web',
      '    health:',
      '      type: http',
      '      port: 8080',
      '      interval_ms: -5',
    ].join('\n');
    const error = refusal(text);
    expect(error.code).toBe('MANIFEST_INVALID');
    expect(error.message).toMatch(/^runtime\.yaml:12:20: processes\.2\.health\.interval_ms: /);
    expect(error.remedy).toContain('example.yaml');
  });

  it.each([
    [
      'a missing field points at its parent',
      'version: 1\nprocesses:\n  - name: core\n',
      /^runtime\.yaml:3:5: processes\.0\.command: is required/,
    ],
    [
      'an unknown key (a typo) points at the key',
      'version: 1\nprocesses:\n  - name: core\n    command: x\n    depend_on: [a]\n',
      /^runtime\.yaml:5:5: processes\.0\.depend_on: Unrecognized key/,
    ],
    [
      'a wrong health type',
      'version: 1\nprocesses:\n  - name: a\n    command: x\n    health: { type: udp, port: 1 }\n',
      /^runtime\.yaml:5:21: processes\.0\.health\.type: /,
    ],
    [
      'a port out of range',
      'version: 1\nprocesses:\n  - name: a\n    command: x\n    health: { type: tcp, port: 70000 }\n',
      /processes\.0\.health\.port: /,
    ],
    [
      'a bad restart policy',
      'version: 1\nprocesses:\n  - name: a\n    command: x\n    restart: sometimes\n',
      /^runtime\.yaml:5:14: processes\.0\.restart: /,
    ],
    [
      'an unknown signal',
      'version: 1\nprocesses:\n  - name: a\n    command: x\n    stop: { signal: SIGBOGUS }\n',
      /processes\.0\.stop\.signal: is not a signal name/,
    ],
    [
      'a delay longer than a Node timer can wait',
      'version: 1\nprocesses:\n  - name: a\n    command: x\n    crash_loop: { retry_every_ms: 3000000000 }\n',
      /processes\.0\.crash_loop\.retry_every_ms: Too big/,
    ],
    ['a bad env name', 'version: 1\nprocesses:\n  - name: a\n    command: x\n    env: { 1X: y }\n', /processes\.0\.env\.1X: /],
    [
      'jitter above 1',
      'version: 1\nprocesses:\n  - name: a\n    command: x\n    backoff: { jitter: 1.5 }\n',
      /processes\.0\.backoff\.jitter: /,
    ],
    ['zero replicas in the manifest', 'version: 1\nprocesses:\n  - name: a\n    command: x\n    replicas: 0\n', /processes\.0\.replicas: /],
    ['a bad name', 'version: 1\nprocesses:\n  - name: Core!\n    command: x\n', /processes\.0\.name: must be lowercase/],
    ['a wrong version', 'version: 2\nprocesses:\n  - name: a\n    command: x\n', /^runtime\.yaml:1:10: version: must be 1/],
    ['an empty file', '', /^runtime\.yaml:1:1: \(top level\): /],
    ['broken YAML', 'version: 1\nprocesses: [\n  - name: a\n', /^runtime\.yaml:\d+:\d+: /],
    ['a duplicate key', 'version: 1\nversion: 1\nprocesses: []\n', /^runtime\.yaml:2:1: Map keys must be unique/],
    [
      'a duplicate process name',
      'version: 1\nprocesses:\n  - name: a\n    command: x\n  - name: a\n    command: y\n',
      /^runtime\.yaml:5:11: processes\.1\.name: duplicate name "a" \(also processes\.0\.name\)/,
    ],
    [
      'instance names that collide',
      'version: 1\nprocesses:\n  - name: agent\n    command: x\n    replicas: 2\n  - name: agent-1\n    command: y\n',
      /processes\.1\.name: instance name "agent-1" is also an instance of "agent"/,
    ],
    [
      'an unknown dependency',
      'version: 1\nprocesses:\n  - name: a\n    command: x\n    depends_on: [core, ghost]\n  - name: core\n    command: y\n',
      /^runtime\.yaml:5:24: processes\.0\.depends_on\.1: no process named "ghost"/,
    ],
  ])('refuses %s with MANIFEST_INVALID', (_label, text, pattern) => {
    const error = refusal(text);
    expect(error.code).toBe('MANIFEST_INVALID');
    expect(error.message).toMatch(pattern);
  });

  it('refuses more processes or instances than the limits allow, naming the limit and the runtime config key', () => {
    const processes = (count: number, replicas = 1) =>
      `version: 1\nprocesses:\n${Array.from({ length: count }, (_, i) => `  - name: p${i}\n    command: x\n    replicas: ${replicas}\n`).join('')}`;
    const tooMany = refusalWith(processes(2000), DEFAULT_MANIFEST_LIMITS);
    expect(tooMany.code).toBe('MANIFEST_INVALID');
    expect(tooMany.message).toMatch(/^runtime\.yaml:3:3: processes: lists 2000 processes, more than the limit of 256$/);
    expect(tooMany.remedy).toContain('manifest_limits.max_processes');

    const tooManyInstances = refusalWith(processes(3, 4), { maxProcesses: 10, maxInstances: 10 });
    expect(tooManyInstances.message).toMatch(
      /^runtime\.yaml:\d+:\d+: processes\.2\.replicas: brings the manifest to 12 instances, more than the limit of 10$/,
    );
    expect(tooManyInstances.remedy).toContain('manifest_limits.max_instances');

    expect(parseManifest(processes(3, 4), 'runtime.yaml', { maxProcesses: 3, maxInstances: 12 }).processes).toHaveLength(3);
  });

  it.each([
    [
      'an alias bomb',
      `version: 1\na: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [${'*a, '.repeat(9)}*a]\nc: &c [${'*b, '.repeat(9)}*b]\nd: &d [${'*c, '.repeat(9)}*c]\ne: &e [${'*d, '.repeat(9)}*d]\nprocesses: []\n`,
      /aliases expand the text to more than \d+ keys and list items/,
    ],
    ['deep nesting', `version: 1\nprocesses: ${'['.repeat(5000)}${']'.repeat(5000)}\n`, /nested more than 32 deep/],
    ['a custom tag', 'version: 1\nprocesses:\n  - name: a\n    command: !shell x\n', /^runtime\.yaml:4:\d+: the tag !shell is not allowed/],
    ['a YAML 1.1 tag', 'version: 1\nprocesses:\n  - name: a\n    command: x\n    args: !!set { a }\n', /the tag !!set is not allowed/],
  ])('refuses %s with MANIFEST_INVALID before building anything from it', (_label, text, pattern) => {
    const error = refusal(text);
    expect(error.code).toBe('MANIFEST_INVALID');
    expect(error.message).toMatch(pattern);
  });

  it('refuses a dependency cycle with MANIFEST_CYCLE and the path that forms it', () => {
    const text = [
      'version: 1',
      'processes:',
      '  - name: core',
      '    command: x',
      '    depends_on: [agent]',
      '  - name: agent',
      '    command: y',
      '    depends_on: [core]',
    ].join('\n');
    const error = refusal(text);
    expect(error.code).toBe('MANIFEST_CYCLE');
    expect(error.message).toBe('runtime.yaml:5:17: cycle: core -> agent -> core');
    expect(error.remedy).toMatch(/depends_on/);
  });
});

describe('startOrder / stopOrder', () => {
  it('starts everything after what it depends on, keeping manifest order for ties, and stops in reverse', () => {
    const manifest = manifestOf({ web: ['agent', 'core'], agent: ['core', 'db'], core: ['db'], db: [], tools: [] });
    expect(startOrder(manifest)).toEqual(['db', 'core', 'agent', 'web', 'tools']);
    expect(stopOrder(manifest)).toEqual(['tools', 'web', 'agent', 'core', 'db']);
  });

  it('refuses a cycle with its path, including a process that depends on itself', () => {
    expect(() => startOrder(manifestOf({ a: ['b'], b: ['c'], c: ['a'] }))).toThrow('cycle: a -> b -> c -> a');
    expect(() => startOrder(manifestOf({ solo: ['solo'] }))).toThrow('cycle: solo -> solo');
    // A cycle must throw: the assertion is on the thrown value, so nothing thrown fails too.
    expect(() => startOrder(manifestOf({ x: [], a: ['b'], b: ['a'] }))).toThrow(expect.objectContaining({ code: 'MANIFEST_CYCLE' }));
  });

  it('refuses an unknown dependency with the path to it', () => {
    expect(() => startOrder(manifestOf({ web: ['agent'], agent: ['ghost'] }))).toThrow(/unknown dependency: web -> agent -> ghost/);
  });
});

describe('expandReplicas / replicaHealth', () => {
  it('keeps the bare name for one replica and numbers several from 1', () => {
    expect(expandReplicas({ name: 'core', replicas: 1 })).toEqual(['core']);
    expect(expandReplicas({ name: 'agent', replicas: 3 })).toEqual(['agent-1', 'agent-2', 'agent-3']);
    expect(expandReplicas({ name: 'agent', replicas: 3 }, 0)).toEqual([]);
  });

  it('checks replica N on port + N - 1 and leaves exec checks alone', () => {
    const spec = parseManifest('version: 1\nprocesses:\n  - name: a\n    command: x\n    health: { type: http, port: 7410 }\n', 'm')
      .processes[0];
    const health = spec?.health;
    if (health === undefined) throw new Error('no health');
    expect(replicaHealth(health, 1)).toMatchObject({ port: 7410 });
    expect(replicaHealth(health, 3)).toMatchObject({ port: 7412, path: '/healthz' });
    const exec = { ...health, type: 'exec' as const, command: 'true', args: [] };
    expect(replicaHealth(exec, 3)).toBe(exec);
  });
});
