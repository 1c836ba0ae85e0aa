import { AsyncLocalStorage } from 'node:async_hooks';
import type { InstallJobKind } from '../../../contract';

export interface RunningJob {
  id: string;
  kind: InstallJobKind;
}

/**
 * The API job the current code runs for (install-jobs.ts sets it around a job's work):
 * the install lock records it, so whoever is refused hears which job holds the install.
 */
export const currentJob = new AsyncLocalStorage<RunningJob>();
