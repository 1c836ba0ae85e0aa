import { afterAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../../electron/contract';
import { createOffThreadYaml } from '../../../electron/backend/untrusted-yaml/parse-off-thread';
import { manyKeys } from '../../support/hostile-yaml';

const source = { layer: 'install', kind: 'install' as const, file: 'install.yaml' };
const impatient = createOffThreadYaml({ timeoutMs: 1 });
const patient = createOffThreadYaml();

afterAll(async () => {
  await impatient.close();
  await patient.close();
});

describe('createOffThreadYaml', () => {
  it('parses a layer on a worker thread into data the main thread can locate errors with', async () => {
    const outcome = await patient.run({ kind: 'config-layer', text: 'install:\n  releases_kept: 4\n', source });
    expect(outcome).toMatchObject({ ok: true, data: { value: { install: { releases_kept: 4 } } } });
    if (outcome.ok) expect(outcome.data.spots.get(JSON.stringify(['install', 'releases_kept']))).toEqual({ key: 11, value: 26 });
  });

  it('cuts off a task that runs past its time with CONFIG_YAML_INVALID, and keeps serving later tasks', async () => {
    const error = await impatient.run({ kind: 'config-layer', text: manyKeys(9_000), source }).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      code: 'CONFIG_YAML_INVALID',
      message: 'install.yaml: reading it took longer than 0.001 s; it was not read.',
    });
    // The cut-off worker is replaced: the next task is refused for its own time, not stuck behind the first.
    await expect(impatient.run({ kind: 'host-list', text: 'hosts: []\n', fileName: 'hosts.yaml' })).rejects.toMatchObject({
      code: 'CONFIG_YAML_INVALID',
    });
    expect((await patient.run({ kind: 'host-list', text: 'hosts:\n  - address: 10.0.0.1\n', fileName: 'hosts.yaml' })).rows).toHaveLength(
      1,
    );
  });
});

describe('createOffThreadYaml without a worker', () => {
  it('parses on the calling thread, within the same limits, when the worker cannot load', async () => {
    const { Worker } = await import('node:worker_threads');
    const broken = createOffThreadYaml({ startWorker: () => new Worker('throw new Error("cannot load the YAML worker")', { eval: true }) });
    try {
      const outcome = await broken.run({ kind: 'config-layer', text: 'install:\n  releases_kept: 4\n', source });
      expect(outcome).toMatchObject({ ok: true, data: { value: { install: { releases_kept: 4 } } } });
      const refused = await broken.run({ kind: 'config-layer', text: manyKeys(), source });
      expect(refused).toMatchObject({ ok: false, error: { code: 'CONFIG_YAML_INVALID' } });
    } finally {
      await broken.close();
    }
  });
});
