import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LogFiles } from '../../../agents-runtime/src/logs/log-files';
import { LogRotator, enforceTotalCap, rotateByRename, rotateIfNeeded, type LogEvent } from '../../../agents-runtime/src/logs/log-rotation';
import { follow, lastLines, tail, type LogLine } from '../../../agents-runtime/src/logs/log-tail';
import { createMetricsService } from '../../../agents-runtime/src/metrics/metrics-service';
import { LinuxProcessDriver } from '../../../agents-runtime/src/process/process-driver';
import { killMarkedProcesses, removeDefaultFifoDir } from '../../support/kill-marked-processes';
import { makeTempDir } from '../../support/temp-dir';

const tmp = makeTempDir('sutazai-logs-');
const runtimeId = `logs-test-${process.pid}-${Date.now()}`;
afterAll(() => {
  killMarkedProcesses(runtimeId);
  removeDefaultFifoDir(runtimeId);
  tmp.remove();
});

function dirOf(name: string): string {
  return path.join(tmp.path, name);
}
function sizes(dir: string): Record<string, number> {
  return Object.fromEntries(fs.readdirSync(dir).map((n) => [n, fs.statSync(path.join(dir, n)).size]));
}
/** The rotator ticked as the daemon ticks it: after each sample of a real metrics sampler (here every `intervalMs`, watched or not). */
function tickedBySampler(rotator: LogRotator, intervalMs: number): { stop(): void } {
  const sampler = createMetricsService({ intervalMs, unwatchedIntervalMs: intervalMs, gpu: false, afterTick: () => rotator.tick() });
  sampler.start();
  return sampler;
}
const line = (i: number) => `2025-01-01T00:00:00.000Z out line ${String(i).padStart(5, '0')} ${'x'.repeat(60)}\n`;

describe('log rotation', () => {
  it('keeps at most keepFiles rotated files per process, newest in .1', () => {
    const files = new LogFiles(dirOf('per-process'), { maxFileBytes: 1000, keepFiles: 2 });
    files.ensureWritable();
    let n = 0;
    for (let round = 0; round < 5; round += 1) {
      for (let i = 0; i < 20; i += 1) fs.appendFileSync(files.logPath('core'), line(n++));
      expect(rotateIfNeeded(files, 'core')).toBe(true);
    }
    expect(Object.keys(sizes(files.dir)).sort()).toEqual(['core.log', 'core.log.1', 'core.log.2']);
    expect(fs.statSync(files.logPath('core')).size).toBe(0);
    expect(fs.readFileSync(files.rotatedPath('core', 1), 'utf8')).toContain('line 00099');
    expect(fs.readFileSync(files.rotatedPath('core', 2), 'utf8')).toContain('line 00060');
    // tail reaches back into the rotated files, in order.
    expect(tail(files, 'core', 25).map((l) => l.text.slice(5, 10))).toEqual(
      Array.from({ length: 25 }, (_, i) => String(75 + i).padStart(5, '0')),
    );
    expect(rotateIfNeeded(files, 'core')).toBe(false); // under the size: nothing to do
  });

  it('keeps the whole directory under maxTotalBytes, deleting the oldest rotated files first', () => {
    const files = new LogFiles(dirOf('total'), { maxFileBytes: 1000, keepFiles: 5, maxTotalBytes: 3000 });
    files.ensureWritable();
    const t = Date.now() / 1000;
    for (const [i, name] of ['a.log.2', 'b.log.1', 'a.log.1', 'c.log.1'].entries()) {
      const p = path.join(files.dir, name);
      fs.writeFileSync(p, 'y'.repeat(1000));
      fs.utimesSync(p, t - 100 + i, t - 100 + i);
    }
    fs.writeFileSync(files.logPath('a'), 'z'.repeat(500));
    const removed = enforceTotalCap(files).map((p) => path.basename(p));
    expect(removed).toEqual(['a.log.2', 'b.log.1']);
    const total = Object.values(sizes(files.dir)).reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(3000);
    expect(fs.existsSync(files.logPath('a'))).toBe(true);
  });

  it('copy-truncate while a real child writes: the child keeps its fd, no hole, caps hold, follow sees every line', async () => {
    const files = new LogFiles(dirOf('live'), { maxFileBytes: 4000, keepFiles: 2, maxTotalBytes: 64 * 1024 });
    const events: LogEvent[] = [];
    const rotator = new LogRotator(files, { onEvent: (e) => events.push(e) });
    const driver = new LinuxProcessDriver({ logs: files, runtimeId });
    const proc = await driver.start(
      {
        name: 'chatty',
        command: 'sh',
        args: ['-c', 'i=0; while [ $i -lt 400 ]; do echo "n=$i"; i=$((i+1)); sleep 0.005; done'],
        env: {},
        stop: { signal: 'SIGTERM', graceMs: 1000 },
      },
      'chatty',
    );
    const seen: LogLine[] = [];
    const stopFollow = follow(files, 'chatty', (lines) => seen.push(...lines), { pollMs: 20 });
    const sampler = tickedBySampler(rotator, 50);
    const exit = await new Promise((resolve) => proc.onExit(resolve));
    expect(exit).toEqual({ code: 0, signal: null });
    await new Promise((r) => setTimeout(r, 300));
    rotator.checkNow();
    sampler.stop();
    stopFollow();

    const all = sizes(files.dir);
    expect(Object.keys(all).every((n) => /^chatty\.log(\.[12])?$/.test(n))).toBe(true);
    for (const [name, size] of Object.entries(all)) expect(size, name).toBeLessThanOrEqual(4000 + 1500); // cap plus one check interval
    expect(fs.readFileSync(files.logPath('chatty')).includes(0)).toBe(false); // O_APPEND: no sparse hole after truncation
    const numbers = seen.map((l) => Number(/^n=(\d+)$/.exec(l.text)?.[1]));
    expect(numbers.length).toBeGreaterThan(390); // at most a few lines lost in copy-truncate's last instant
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(seen.every((l) => l.stream === 'out' && l.time !== null)).toBe(true);
    expect(lastLines(files, 'chatty', 2).map((l) => l.slice(-5))).toEqual(['n=398', 'n=399']);
    expect(events).toEqual([]);
  });

  it('follow across a rotation by rename (as the log collector rotates) finds the rest in .log.1 even when the new live file has grown past its offset', async () => {
    const files = new LogFiles(dirOf('renamed'), { maxFileBytes: 4000, keepFiles: 2 });
    files.ensureWritable();
    const live = files.logPath('r');
    fs.writeFileSync(live, '');
    const seen: string[] = [];
    const stopFollow = follow(files, 'r', (lines) => seen.push(...lines.map((l) => l.text)), { pollMs: 20 });
    const until = async (n: number): Promise<void> => {
      for (let waited = 0; seen.length < n; waited += 20) {
        if (waited > 15_000) throw new Error(`follow saw ${seen.length} of ${n} lines`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      for (let i = 1; i <= 10; i += 1) fs.appendFileSync(live, line(i));
      await until(10);
      // In one turn, before follow can look: more lines, the rename, and a new live file longer than the old one.
      for (let i = 11; i <= 20; i += 1) fs.appendFileSync(live, line(i));
      rotateByRename(files, 'r');
      for (let i = 21; i <= 60; i += 1) fs.appendFileSync(live, line(i));
      await until(60);
      for (let i = 61; i <= 62; i += 1) fs.appendFileSync(live, line(i)); // and on in the new file
      await until(62);
    } finally {
      stopFollow();
    }
    expect(seen).toEqual(
      Array.from(
        { length: 62 },
        (_, i) =>
          line(i + 1)
            .trimEnd()
            .split(' out ')[1],
      ),
    );
  });

  it('reports an unwritable directory as an event and keeps going', () => {
    fs.writeFileSync(dirOf('plain-file'), '');
    const events: LogEvent[] = [];
    const files = new LogFiles(path.join(dirOf('plain-file'), 'logs'));
    expect(() => files.ensureWritable()).toThrow(expect.objectContaining({ code: 'LOG_DIR_NOT_WRITABLE' }));
    new LogRotator(files, { onEvent: (e) => events.push(e) }).checkNow();
    expect(events).toEqual([]); // nothing to rotate: no false alarm either
  });

  it('reports a nearly full disk once as LOG_DISK_FULL', () => {
    const files = new LogFiles(dirOf('full'));
    files.ensureWritable();
    const events: LogEvent[] = [];
    const rotator = new LogRotator(files, { onEvent: (e) => events.push(e), minFreeBytes: Number.MAX_SAFE_INTEGER });
    rotator.checkNow();
    rotator.checkNow();
    expect(events.map((e) => e.error.code)).toEqual(['LOG_DISK_FULL']);
    expect(events[0]!.error.remedy).toMatch(/free space/);
  });

  it('with sizesEvery (the collector writes the logs), free space is checked every sampler tick and sizes every Nth', async () => {
    const files = new LogFiles(dirOf('sizes-every'), { maxFileBytes: 100, keepFiles: 2 });
    files.ensureWritable();
    fs.writeFileSync(files.logPath('agent-1'), line(1).repeat(4)); // over maxFileBytes
    const seen: Array<{ code: string; rotated: boolean }> = [];
    const rotated = (): boolean => fs.existsSync(files.rotatedPath('agent-1', 1));
    let resolveRotated: () => void = () => undefined;
    const rotatedOnce = new Promise<void>((resolve) => (resolveRotated = resolve));
    const rotator = new LogRotator(files, {
      sizesEvery: 3,
      minFreeBytes: Number.MAX_SAFE_INTEGER,
      onEvent: (e) => {
        seen.push({ code: e.error.code, rotated: rotated() });
        resolveRotated();
      },
    });
    const sampler = tickedBySampler(rotator, 20);
    try {
      await rotatedOnce; // the first interval's free-space check
      await new Promise<void>((resolve) => {
        const poll = setInterval(() => rotated() && (clearInterval(poll), resolve()), 10);
      });
    } finally {
      sampler.stop();
    }
    // The first interval checked free space only: the oversized file was still there unrotated.
    expect(seen).toEqual([{ code: 'LOG_DISK_FULL', rotated: false }]);
    expect(fs.statSync(files.logPath('agent-1')).size).toBe(0);
  });
});
