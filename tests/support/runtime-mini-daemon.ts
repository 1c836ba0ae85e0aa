// A minimal supervisor built from the runtime's process driver and state file, for the
// daemon-death test: keeps `--count` instances of `sleep 300` alive, re-adopting what a
// previous (killed) daemon left running. Prints one JSON line per event on stdout.
// Usage: node --import tsx tests/support/runtime-mini-daemon.ts --state F --logs D --id ID --count N
import { LogFiles } from '../../agents-runtime/src/logs/log-files';
import { adoptOrStart } from '../../agents-runtime/src/process/adopt-or-start';
import { LinuxProcessDriver } from '../../agents-runtime/src/process/process-driver';
import { isSameProcess } from '../../agents-runtime/src/process/proc-identity';
import { loadState, saveState } from '../../agents-runtime/src/process/state-file';
import type { RunningProcess } from '../../agents-runtime/src/supervisor/driver';

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) throw new Error(`missing --${name}`);
  return v;
}

const stateFile = arg('state');
const count = Number(arg('count'));
const driver = new LinuxProcessDriver({ logs: new LogFiles(arg('logs')), runtimeId: arg('id') });
const say = (event: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(event)}\n`);
const spec = { name: 'sleeper', command: 'sleep', args: ['300'], env: {}, stop: { signal: 'SIGTERM', graceMs: 2000 } };

const loaded = loadState(stateFile);
if (loaded.problem) say({ event: 'problem', code: loaded.problem.code });
const state = loaded.state;
const wanted = Array.from({ length: count }, (_, i) => `sleeper-${i + 1}`);

function watch(instance: string, proc: RunningProcess): void {
  proc.onExit((exit) => {
    say({ event: 'exited', instance, pid: proc.pid, ...exit });
    void start(instance);
  });
}

async function start(instance: string): Promise<void> {
  const proc = await driver.start(spec, instance);
  state.instances[instance] = { pid: proc.pid, startTime: proc.startTime };
  await saveState(stateFile, state);
  say({ event: 'started', instance, pid: proc.pid });
  watch(instance, proc);
}

const plan = adoptOrStart({
  wanted,
  saved: state.instances,
  adopt: (i, pid, t) => driver.adopt(i, pid, t),
  isAlive: isSameProcess,
  discover: () => driver.discover(),
});
for (const [instance, proc] of plan.adopted) {
  state.instances[instance] = { pid: proc.pid, startTime: proc.startTime };
  say({ event: 'adopted', instance, pid: proc.pid });
  watch(instance, proc);
}
for (const [instance, proc] of plan.unwanted) await driver.stop(proc, 'SIGTERM', 2000).then(() => say({ event: 'stopped', instance }));
for (const e of plan.extra) say({ event: 'extra', ...e });
await saveState(stateFile, state);
for (const instance of plan.toStart) await start(instance);
say({ event: 'ready' });
setInterval(() => undefined, 60_000);
