import fs from 'node:fs';
import { defaultFifoDir } from '../../agents-runtime/src/logs/log-collector-client';
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

/**
 * Removes the FIFO directory a driver made for this runtime id where it was given none
 * (defaultFifoDir, under the temp dir): its collector outlives the test's processes, and the
 * directory would be left behind. Call it after killMarkedProcesses.
 */
export function removeDefaultFifoDir(runtimeId: string): void {
  fs.rmSync(defaultFifoDir(runtimeId), { recursive: true, force: true });
}
