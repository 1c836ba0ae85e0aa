import { RUNTIME_ID_ENV } from '../../agents-runtime/src/process/process-driver';
import { scanProcessesByEnv } from '../../agents-runtime/src/process/proc-identity';

/** SIGKILLs every process, and the group it leads, that carries this runtime id in its environment. */
export function killMarkedProcesses(runtimeId: string): void {
  for (const { stat } of scanProcessesByEnv(RUNTIME_ID_ENV, runtimeId)) {
    for (const target of [-stat.pgid, stat.pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}
