/**
 * A full disk under the log directory, for real: a 256 KiB tmpfs (needs root, as CI runs).
 * While it is full, the program keeps running (its writes go to the stamper, which drops
 * lines instead of blocking or dying); once space is back, the log says how many lines were
 * dropped and carries on. Every stamper (bash loops, Node shim, log collector: the Node one and
 * the native one the runtime bundle runs) behaves the same.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nativeCollectorCommand } from '../../../agents-runtime/src/logs/log-collector-client';
import { LogFiles } from '../../../agents-runtime/src/logs/log-files';
import { tail } from '../../../agents-runtime/src/logs/log-tail';
import { LinuxProcessDriver } from '../../../agents-runtime/src/process/process-driver';
import { isSameProcess } from '../../../agents-runtime/src/process/proc-identity';
import type { RunningProcess } from '../../../agents-runtime/src/supervisor/driver';
import { killMarkedProcesses, removeDefaultFifoDir } from '../../support/kill-marked-processes';
import { buildNativeCollectorInto } from '../../support/native-collector';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const isRoot = process.getuid?.() === 0;
const tmp = makeTempDir('sutazai-log-enospc-');
const runtimeId = `enospc-test-${process.pid}-${Date.now()}`;
const mounted: string[] = [];
const waitFor = makeWaitFor({ timeoutMs: 8000, pollMs: 50 });

afterAll(() => {
  killMarkedProcesses(runtimeId);
  removeDefaultFifoDir(runtimeId);
  for (const dir of mounted) execFileSync('umount', ['-l', dir]);
  tmp.remove();
});

function mountSmallTmpfs(name: string): string {
  const dir = path.join(tmp.path, name);
  fs.mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0755', `sutazai-test-${name}`, dir]);
  mounted.push(dir);
  return dir;
}

/** Writes until the file system says ENOSPC; returns the filler's path. */
function fill(dir: string): string {
  const filler = path.join(dir, 'filler');
  const fd = fs.openSync(filler, 'w');
  const chunk = Buffer.alloc(4096, 0x61);
  try {
    // 4 MB into a 256 KiB file system: the disk is full long before the loop ends.
    for (let i = 0; i < 1000; i += 1) fs.writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') return filler;
    throw error;
  } finally {
    fs.closeSync(fd);
  }
  throw new Error(`${dir} never filled up: the test needs a full disk`);
}

describe.skipIf(!isRoot)('logs on a full disk (tmpfs, root)', () => {
  for (const stamper of ['bash', 'node', 'collector', 'native collector'] as const) {
    it(`${stamper} stamper: drops lines while the disk is full, keeps the program alive, then says how many it dropped`, async () => {
      const native = stamper === 'native collector';
      const timestamps = native ? 'collector' : stamper;
      const dir = mountSmallTmpfs(`logs-${stamper.replace(' ', '-')}`);
      const logs = new LogFiles(path.join(dir, 'logs'));
      // Its own FIFO directory (the Node collector's is the runtime id's default): one collector each.
      const fifoDir = path.join(tmp.path, 'native-fifos');
      const driver = new LinuxProcessDriver({
        logs,
        runtimeId,
        timestamps,
        collector: native
          ? { fifoDir, command: nativeCollectorCommand(buildNativeCollectorInto(tmp.path), fifoDir, logs.dir, logs.limits) }
          : undefined,
      });
      const name = `chatty-${stamper.replace(' ', '-')}`;
      const proc: RunningProcess = await driver.start(
        {
          name,
          command: 'sh',
          args: ['-c', `pad=${'x'.repeat(200)}; i=0; while [ $i -lt 100000 ]; do i=$((i+1)); echo "line $i $pad"; sleep 0.02; done`],
          env: {},
          stop: { signal: 'SIGTERM', graceMs: 2000 },
        },
        name,
      );
      await waitFor('first lines', () => tail(logs, name, 5).length >= 3);
      const filler = fill(dir);
      // Long enough for the log's last 4 KiB page to fill up (~230 bytes a line, 50 lines a second).
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expect(isSameProcess(proc.pid, proc.startTime)).toBe(true);
      fs.rmSync(filler);
      const notice = await waitFor('the dropped-lines notice', () =>
        tail(logs, name, 50).find((l) => l.stream === 'sys' && /log lines dropped/.test(l.text)),
      );
      const dropped = Number(/(\d+) log lines dropped/.exec(notice.text)?.[1]);
      expect(dropped).toBeGreaterThan(0);
      const numbers = tail(logs, name, 200).flatMap((l) => (l.stream === 'out' ? [Number(l.text.split(' ')[1])] : []));
      // Lines after the notice carry on from where the program is, not from where the log stopped.
      expect(numbers.at(-1)! - numbers[0]!).toBeGreaterThan(numbers.length - 1);
      // The collector also counts them as a metric (process.log_dropped_lines); the other stampers only say so in the log.
      if (timestamps === 'collector') await waitFor('the dropped-lines count', () => driver.logDroppedLines(name) === dropped);
      else expect(driver.logDroppedLines(name)).toBeNull();
      await driver.stop(proc, 'SIGTERM', 2000);
    });
  }
});
