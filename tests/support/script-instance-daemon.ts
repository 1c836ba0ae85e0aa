// What the stand-in daemons of the process driver's tests share (raw-driver-daemon.ts,
// collector-daemon.ts): their command line, and the one instance each starts, running a
// shell script.
import type { LinuxProcessDriver } from '../../agents-runtime/src/process/process-driver';

/** The value after `--name` on the command line; a missing one is the test's mistake, so it throws. */
export function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) throw new Error(`missing --${name}`);
  return v;
}

/** Starts the instance `--instance` running `sh -c <--script>`, stopped by SIGTERM with 2 s grace. */
export function startScriptInstance(driver: LinuxProcessDriver): ReturnType<LinuxProcessDriver['start']> {
  const instance = arg('instance');
  return driver.start(
    { name: instance, command: 'sh', args: ['-c', arg('script')], env: {}, stop: { signal: 'SIGTERM', graceMs: 2000 } },
    instance,
  );
}
