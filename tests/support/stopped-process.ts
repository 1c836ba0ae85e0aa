import fs from 'node:fs';

/** Until the process is stopped (state T in /proc: it reached a SIGSTOP failure point), bounded by count. */
export async function stoppedProcess(pid: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('T')) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`process ${pid} never reached its failure point`);
}
