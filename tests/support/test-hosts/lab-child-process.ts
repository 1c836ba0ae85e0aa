// A lab in a process of its own, for the harness self-test to kill: it builds a small lab,
// prints one JSON line describing it, then waits (at most a minute) for its end.
// Run: node --import tsx tests/support/test-hosts/lab-child-process.ts
import { createTestLab } from './test-hosts';

const MAX_LIFETIME_MS = 60_000;

const lab = await createTestLab();
const ssh = await lab.addSshHost({ login: 'sudo-password' });
const dropbear = await lab.addDropbearHost();
const tarpit = await lab.addTarpitHost();
const controlCenter = await lab.addControlCenter({ reach: [ssh] });
process.stdout.write(
  JSON.stringify({
    runId: lab.runId,
    pid: process.pid,
    dir: lab.dir,
    namespaces: [ssh.namespace, dropbear.namespace, tarpit.namespace, controlCenter.namespace],
  }) + '\n',
);
setTimeout(() => process.exit(0), MAX_LIFETIME_MS);
