/**
 * The native collector passes the daemon's ELF check but cannot run after all (exec refused by
 * a policy, a kernel too old, a file cut short, a failure at its start): the client does not
 * retry it forever while nothing reads the FIFOs (every program would block once 64 KiB is
 * queued). After a refused spawn, or two starts that die at once, it runs the Node collector
 * for good and says why once. The lines written meanwhile reach the log.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COLLECTOR_ENV_KEY } from '../../../agents-runtime/src/logs/log-collector';
import { defaultCollectorCommand, LogCollectorClient, nativeCollectorCommand } from '../../../agents-runtime/src/logs/log-collector-client';
import { LogFiles } from '../../../agents-runtime/src/logs/log-files';
import { tail } from '../../../agents-runtime/src/logs/log-tail';
import { scanProcessesByEnv } from '../../../agents-runtime/src/process/proc-identity';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const tmp = makeTempDir('sutazai-collector-fallback-');
const runtimeIds: string[] = [];
const clients: LogCollectorClient[] = [];
const waitFor = makeWaitFor({ timeoutMs: 30_000, pollMs: 50 });

afterAll(() => {
  for (const client of clients) client.close();
  for (const id of runtimeIds) {
    for (const { stat } of scanProcessesByEnv(COLLECTOR_ENV_KEY, id)) {
      try {
        process.kill(stat.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  tmp.remove();
});

/** A real executable of this machine (valid ELF, passes the daemon's check) that exits 1 at once. */
function exitingProgram(): string {
  const source = path.join(tmp.path, 'exit1.c');
  const file = path.join(tmp.path, 'exit1');
  fs.writeFileSync(source, 'int main(void) { return 1; }\n');
  const made = spawnSync('cc', ['-o', file, source], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`cc failed: ${made.stderr || made.error?.message}`);
  return file;
}

async function runWith(name: string, nativeFile: string) {
  const fifoDir = path.join(tmp.path, name, 'fifos');
  const logs = new LogFiles(path.join(tmp.path, name, 'logs'));
  fs.mkdirSync(logs.dir, { recursive: true }); // the daemon makes it before any collector runs
  const runtimeId = `collector-fallback-${name}-${process.pid}`;
  runtimeIds.push(runtimeId);
  const told: string[] = [];
  const client = new LogCollectorClient({
    fifoDir,
    logDir: logs.dir,
    limits: logs.limits,
    runtimeId,
    command: {
      ...nativeCollectorCommand(nativeFile, fifoDir, logs.dir, logs.limits),
      fallback: defaultCollectorCommand(fifoDir, logs.dir, logs.limits),
    },
    onFallback: (problem) => told.push(problem),
  });
  clients.push(client);
  const fds = client.fifosFor('worker');
  fs.writeSync(fds.out, 'written while the native collector could not run\n');
  await client.drain('worker', 30_000);
  await waitFor('the line in the log', () =>
    tail(logs, 'worker', 5).find((l) => l.text === 'written while the native collector could not run'),
  );
  const stats = await client.stats(10_000);
  return { client, told, stats };
}

describe('a native collector that cannot run after all', () => {
  it('dies at every start (exit 1): after two such starts the Node collector runs, and the reason is told once', async () => {
    const program = exitingProgram();
    const { client, told, stats } = await runWith('exits', program);
    expect(stats).toMatchObject({ implementation: 'node' });
    expect(told).toEqual([`${program} exits at once (status 1)`]);
    expect(client.command.nativeProblem).toBe(`${program} exits at once (status 1)`);
    expect(client.command.implementation).toBeUndefined();
  }, 60_000);

  it('cannot be spawned at all (no such file): the Node collector runs, saying why', async () => {
    const missing = path.join(tmp.path, 'no-such-collector');
    const { told, stats } = await runWith('missing', missing);
    expect(stats).toMatchObject({ implementation: 'node' });
    expect(told).toEqual([`${missing} cannot be started (ENOENT)`]);
  }, 60_000);
});
