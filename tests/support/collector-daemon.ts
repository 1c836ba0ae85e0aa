// A stand-in daemon for the log collector's test (tests/integration/runtime/log-collector.test.ts):
// one process driver with `timestamps: collector` that starts one instance running a shell
// script, says {"event":"started","pid":N} on stdout, and then only waits (to be killed -9).
// Usage: node --import tsx tests/support/collector-daemon.ts --logs D --fifos D --id ID --instance NAME --script SH
import { LogFiles } from '../../agents-runtime/src/logs/log-files';
import { LinuxProcessDriver } from '../../agents-runtime/src/process/process-driver';
import { arg, startScriptInstance } from './script-instance-daemon';

const driver = new LinuxProcessDriver({
  logs: new LogFiles(arg('logs')),
  runtimeId: arg('id'),
  timestamps: 'collector',
  collector: { fifoDir: arg('fifos') },
});
const proc = await startScriptInstance(driver);
process.stdout.write(`${JSON.stringify({ event: 'started', pid: proc.pid })}\n`);
setInterval(() => undefined, 60_000);
