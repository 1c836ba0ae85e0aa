// A stand-in daemon for the restart path's test (tests/integration/runtime/restart-path.test.ts):
// one process driver with `timestamps: raw` (no helper process) that starts one instance
// running a shell script, says {"pid":N,"startTime":"..."} on stdout, and then only waits
// (to be killed -9, leaving the instance to be adopted).
// Usage: node --import tsx tests/support/raw-driver-daemon.ts --logs D --lifelines D --id ID --instance NAME --script SH
import { LogFiles } from '../../agents-runtime/src/logs/log-files';
import { LinuxProcessDriver } from '../../agents-runtime/src/process/process-driver';
import { arg, startScriptInstance } from './script-instance-daemon';

const driver = new LinuxProcessDriver({
  logs: new LogFiles(arg('logs')),
  runtimeId: arg('id'),
  timestamps: 'raw',
  lifelineDir: arg('lifelines'),
});
const proc = await startScriptInstance(driver);
process.stdout.write(`${JSON.stringify({ pid: proc.pid, startTime: proc.startTime })}\n`);
setInterval(() => undefined, 60_000);
