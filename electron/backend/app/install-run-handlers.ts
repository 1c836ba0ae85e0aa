import path from 'node:path';
import type { InstallFileRef, MethodResult } from '../../contract';
import type { EventHub } from '../events/event-hub';
import { parseInstallFile, type InstallFile } from '../install/definition/install-file';
import type { InstallEngine } from '../install/engine/install-engine';
import type { ApplyResult, InstallEvent, RollbackResult, UninstallResult } from '../install/engine/install-steps';
import type { EventSources, MethodHandlers } from '../server/dispatcher';

export interface InstallRunDeps {
  installs: InstallEngine;
  hub: EventHub;
}

type RunMethod = 'installs.planFile' | 'installs.applyFile' | 'installs.rollbackFile' | 'installs.uninstallFile';

/**
 * Install files run to their end (the CLI's plan, apply, rollback, uninstall), as thin
 * calls into the install engine; what happens on the way goes out as installs.runProgress
 * events under the caller's progress id.
 */
export function createInstallRunHandlers({ installs, hub }: InstallRunDeps): Pick<MethodHandlers, RunMethod> {
  const progressTo = (progressId: string | undefined) =>
    progressId === undefined ? {} : { onEvent: (event: InstallEvent) => hub.emit('installs.runProgress', { progressId, event }) };
  return {
    'installs.planFile': ({ file }) => installs.plan(installFileOf(file)),
    'installs.applyFile': ({ file, concurrency, allowDowngrade, progressId }): Promise<Answer<'installs.applyFile', ApplyResult>> =>
      installs.apply(installFileOf(file), {
        ...(concurrency !== undefined ? { concurrency } : {}),
        ...(allowDowngrade !== undefined ? { allowDowngrade } : {}),
        ...progressTo(progressId),
      }),
    'installs.rollbackFile': ({ file, host, to, progressId }): Promise<Answer<'installs.rollbackFile', RollbackResult>> =>
      installs.rollback(installFileOf(file), {
        ...(host !== undefined ? { host } : {}),
        ...(to !== undefined ? { to } : {}),
        ...progressTo(progressId),
      }),
    'installs.uninstallFile': ({ file, host, progressId }): Promise<Answer<'installs.uninstallFile', UninstallResult>> =>
      installs.uninstall(installFileOf(file), { ...(host !== undefined ? { host } : {}), ...progressTo(progressId) }),
  };
}

export function createInstallRunSources({ hub }: Pick<InstallRunDeps, 'hub'>): Pick<EventSources, 'installs.runProgress'> {
  return {
    'installs.runProgress': ({ progressId }, emit) =>
      hub.on('installs.runProgress', (progress) => {
        if (progress.progressId === progressId) emit(progress);
      }),
  };
}

/** A path goes to the engine as it is (it reads the file itself); a text is parsed as a file of its name. */
function installFileOf(ref: InstallFileRef): string | InstallFile {
  return 'path' in ref ? ref.path : parseInstallFile(ref.text, path.resolve(ref.fileName));
}

/**
 * The engine's result type, checked to be the contract's both ways: a field the engine
 * adds without the contract would be dropped on the way to every client.
 */
type Answer<M extends RunMethod, T> = [T] extends [MethodResult<M>] ? ([MethodResult<M>] extends [T] ? T : never) : never;
