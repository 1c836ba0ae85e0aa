// The GPU reader against fake `nvidia-smi` scripts on PATH: one that streams lines, one
// that hangs (the watchdog), one that fails at once (backoff, one message), and none.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createGpuReader, NVIDIA_SMI_ARGS, type GpuReader } from '../../../agents-runtime/src/metrics/gpu-reader';
import { createMetricsService } from '../../../agents-runtime/src/metrics/metrics-service';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const tmp = makeTempDir('sutazai-gpu-');

/** A directory holding one fake nvidia-smi; every start appends its pid to `pids`. */
function fakeNvidiaSmi(name: string, body: string): { env: NodeJS.ProcessEnv; pids: () => number[]; args: () => string } {
  const dir = path.join(tmp.path, name);
  fs.mkdirSync(dir);
  const pidFile = path.join(dir, 'pids');
  const argsFile = path.join(dir, 'args');
  fs.writeFileSync(path.join(dir, 'nvidia-smi'), `#!/bin/sh\necho $$ >> '${pidFile}'\necho "$@" > '${argsFile}'\n${body}\n`, {
    mode: 0o755,
  });
  return {
    env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}` },
    pids: () => (fs.existsSync(pidFile) ? fs.readFileSync(pidFile, 'utf8').trim().split('\n').filter(Boolean).map(Number) : []),
    args: () => (fs.existsSync(argsFile) ? fs.readFileSync(argsFile, 'utf8').trim() : ''),
  };
}

const readers: GpuReader[] = [];
const allPids: (() => number[])[] = [];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterAll(() => {
  for (const r of readers) r.stop();
  for (const pids of allPids) {
    for (const pid of pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  tmp.remove();
});

const waitFor = makeWaitFor({ timeoutMs: 10_000, pollMs: 20 });

const STREAM = `while :; do
  echo "0, NVIDIA H100 80GB HBM3, 37, 1024, 81559, 41"
  echo "1, NVIDIA H100 80GB HBM3, [N/A], 0, 81559, [N/A]"
  sleep 0.1
done`;

describe('GPU reader (fake nvidia-smi)', () => {
  it('one long-lived child, lines parsed as they come, killed on stop', async () => {
    const fake = fakeNvidiaSmi('stream', STREAM);
    allPids.push(fake.pids);
    const reader = createGpuReader({ env: fake.env });
    readers.push(reader);
    try {
      reader.start();
      const gpus = await waitFor('two GPUs', () => (reader.current().length === 2 ? reader.current() : null));
      expect(gpus[0]).toEqual({
        index: 0,
        name: 'NVIDIA H100 80GB HBM3',
        utilizationPercent: 37,
        memoryUsedBytes: 1024 * 2 ** 20,
        memoryTotalBytes: 81559 * 2 ** 20,
        temperatureC: 41,
      });
      expect(gpus[1]).toMatchObject({ index: 1, utilizationPercent: null, temperatureC: null });
      expect(fake.args()).toBe(NVIDIA_SMI_ARGS.join(' '));
      await new Promise((r) => setTimeout(r, 500));
      expect(reader.spawns()).toBe(1);
      expect(fake.pids()).toHaveLength(1);
      expect(reader.state()).toBe('running');
    } finally {
      reader.stop();
    }
    const [pid] = fake.pids();
    await waitFor('the child to be gone', () => !alive(pid!));
    expect(reader.current()).toEqual([]);
  });

  it('stop() clears the readings for good: output already in the pipe does not bring them back', async () => {
    // A child that writes as fast as it can, so the pipe holds unread lines when stop() comes.
    const fake = fakeNvidiaSmi('flood', 'exec yes "0, NVIDIA H100 80GB HBM3, 37, 1024, 81559, 41"');
    allPids.push(fake.pids);
    const reader = createGpuReader({ env: fake.env });
    readers.push(reader);
    reader.start();
    await waitFor('a reading', () => reader.current().length === 1);
    reader.stop();
    const [pid] = fake.pids();
    await waitFor('the child to be gone', () => !alive(pid!));
    // Several turns of the event loop, in which any buffered chunk would be delivered.
    for (let i = 0; i < 20; i += 1) await new Promise((r) => setImmediate(r));
    expect(reader.current()).toEqual([]);
    expect(reader.state()).toBe('off');
  });

  it('start() right after stop(): the killed child neither brings its readings back nor restarts beside the new one', async () => {
    // Each run floods lines naming its own pid, so a reading says which run it came from.
    const fake = fakeNvidiaSmi('restart', 'exec yes "0, GPU $$, 37, 1024, 81559, 41"');
    allPids.push(fake.pids);
    // No backoff: a restart wrongly scheduled by the first child's exit runs on the next timer turn.
    const reader = createGpuReader({ env: fake.env, initialBackoffMs: 0, maxBackoffMs: 0 });
    readers.push(reader);
    try {
      reader.start();
      await waitFor('a reading', () => reader.current().length === 1);
      reader.stop();
      reader.start();
      const [oldPid, newPid] = await waitFor('the second run', () => (fake.pids().length === 2 ? fake.pids() : null));
      // Reaped, so its exit event has been delivered; a timer set now runs after any restart that exit scheduled.
      await waitFor('the first child to be gone', () => !alive(oldPid!));
      await new Promise((r) => setTimeout(r, 5));
      await waitFor('a reading of the second run', () => reader.current()[0]?.name === `GPU ${newPid}`);
      for (let i = 0; i < 20; i += 1) await new Promise((r) => setImmediate(r));
      expect(reader.current().map((g) => g.name)).toEqual([`GPU ${newPid}`]);
      expect(reader.spawns()).toBe(2);
      expect(fake.pids()).toEqual([oldPid, newPid]);
      expect(reader.state()).toBe('running');
      expect(reader.childPid()).toBe(newPid);
    } finally {
      reader.stop();
    }
  });

  it('watchdog: a child that goes silent is killed and started again with backoff, one message', async () => {
    // One good line, then silence forever (exec: the pid that hangs is the one we started).
    const fake = fakeNvidiaSmi('hang', 'echo "0, Tesla T4, 5, 100, 15360, 50"\nexec sleep 600');
    allPids.push(fake.pids);
    const messages: string[] = [];
    const reader = createGpuReader({ env: fake.env, staleMs: 400, initialBackoffMs: 100, maxBackoffMs: 400, log: (m) => messages.push(m) });
    readers.push(reader);
    try {
      reader.start();
      await waitFor('a reading', () => reader.current().length === 1);
      // Each start prints a good line (resetting the backoff) and then hangs; wait for two restarts.
      await waitFor('two restarts', () => fake.pids().length >= 3, 15_000);
      const [first, second] = fake.pids();
      await waitFor('the hung children to be gone', () => !alive(first!) && !alive(second!));
      expect(messages.length).toBeGreaterThanOrEqual(1);
      expect(messages[0]).toMatch(/sent nothing for 400 ms; killing it/);
      // Never two at once: every pid but the newest is dead.
      expect(fake.pids().slice(0, -1).filter(alive)).toEqual([]);
    } finally {
      reader.stop();
    }
  });

  it('a reading goes stale when lines stop', async () => {
    const fake = fakeNvidiaSmi('stale', 'echo "0, Tesla T4, 5, 100, 15360, 50"\nexec sleep 600');
    allPids.push(fake.pids);
    const reader = createGpuReader({ env: fake.env, staleMs: 300, initialBackoffMs: 60_000 });
    readers.push(reader);
    try {
      reader.start();
      await waitFor('a reading', () => reader.current().length === 1);
      await waitFor('the reading to expire', () => reader.current().length === 0, 5_000);
      await waitFor('the backoff state', () => reader.state() === 'backoff', 5_000);
      expect(reader.spawns()).toBe(1);
    } finally {
      reader.stop();
    }
  });

  it('a child that fails at once is retried with growing backoff, and says so once', async () => {
    const fake = fakeNvidiaSmi('fail', 'echo "NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver."\nexit 9');
    allPids.push(fake.pids);
    const messages: string[] = [];
    const reader = createGpuReader({ env: fake.env, initialBackoffMs: 50, maxBackoffMs: 200, log: (m) => messages.push(m) });
    readers.push(reader);
    try {
      reader.start();
      await waitFor('three tries', () => reader.spawns() >= 3);
      expect(reader.current()).toEqual([]);
      expect(messages).toEqual(['nvidia-smi exited (code 9); retrying with backoff']);
    } finally {
      reader.stop();
    }
  });

  it('no nvidia-smi on PATH: no child, no GPU metrics, no message', () => {
    const empty = path.join(tmp.path, 'empty');
    fs.mkdirSync(empty);
    const messages: string[] = [];
    const reader = createGpuReader({ env: { PATH: empty }, log: (m) => messages.push(m) });
    try {
      reader.start();
      expect(reader.state()).toBe('absent');
      expect(reader.spawns()).toBe(0);
      expect(reader.current()).toEqual([]);
      expect(messages).toEqual([]);
    } finally {
      reader.stop();
    }
  });

  it('the metrics service carries the GPUs in its samples', async () => {
    const fake = fakeNvidiaSmi('service', STREAM);
    allPids.push(fake.pids);
    const s = createMetricsService({ intervalMs: 50, gpu: { env: fake.env } });
    try {
      s.start();
      const sample = await waitFor('a sample with GPUs', () => s.latest()?.host.gpus.length === 2 && s.latest());
      expect(sample.host.gpus.map((g) => g.index)).toEqual([0, 1]);
    } finally {
      s.stop();
    }
  });
});
