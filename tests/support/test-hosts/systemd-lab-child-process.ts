// A lab with one systemd host in a process of its own, for the self-test to kill: it prints
// one JSON line describing it, then waits (at most a minute) for its end.
// Run: node --import tsx tests/support/test-hosts/systemd-lab-child-process.ts
import { createTestLab } from './test-hosts';

const MAX_LIFETIME_MS = 60_000;

const lab = await createTestLab();
const host = await lab.addSystemdHost();
process.stdout.write(JSON.stringify({ runId: lab.runId, pid: process.pid, dir: lab.dir, namespace: host.namespace }) + '\n');
setTimeout(() => process.exit(0), MAX_LIFETIME_MS);
