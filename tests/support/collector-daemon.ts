// A stand-in daemon for the log collector's test (tests/integration/runtime/log-collector.test.ts):
// one process driver with `timestamps: collector` that starts one instance running a shell
// script, says {"event":"started","pid":N} on stdout, and then only waits (to be killed -9).
// Usage: node --import tsx tests/support/collector-daemon.ts --logs D --fifos D --id ID --instance NAME --script SH [--native FILE]
// (--native: the native collector at FILE instead of the Node one)
import { nativeCollectorCommand } from '../../agents-runtime/src/logs/log-collector-client';
import { LogFiles } from '../../agents-runtime/src/logs/log-files';
import { LinuxProcessDriver } from '../../agents-runtime/src/process/process-driver';
import { arg, startScriptInstance } from './script-instance-daemon';

const logs = new LogFiles(arg('logs'));
const native = process.argv.includes('--native') ? arg('native') : undefined;
const driver = new LinuxProcessDriver({
  logs,
  runtimeId: arg('id'),
  timestamps: 'collector',
  collector: {
    fifoDir: arg('fifos'),
    command: native === undefined ? undefined : nativeCollectorCommand(native, arg('fifos'), logs.dir, logs.limits),
  },
});
const proc = await startScriptInstance(driver);
process.stdout.write(`${JSON.stringify({ event: 'started', pid: proc.pid })}\n`);
setInterval(() => undefined, 60_000);
