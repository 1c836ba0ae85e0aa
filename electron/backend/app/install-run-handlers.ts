import path from 'node:path';
import { ApiError, type InstallFileRef, type MethodResult } from '../../contract';
import type { EventHub } from '../events/event-hub';
import { parseInstallFile, type InstallFile } from '../install/definition/install-file';
import type { InstallEngine } from '../install/engine/install-engine';
import type { ApplyResult, InstallEvent, RollbackResult, UninstallResult } from '../install/engine/install-steps';
import type { EventSources, MethodHandlers } from '../server/dispatcher';

export interface InstallRunDeps {
  installs: InstallEngine;
  hub: EventHub;
}

type RunMethod = 'installs.planFile' | 'installs.applyFile' | 'installs.rollbackFile' | 'installs.uninstallFile' | 'installs.cancelRun';

interface Followed {
  onEvent?: (event: InstallEvent) => void;
  signal?: AbortSignal;
}

/**
 * Install files run to their end (the CLI's plan, apply, rollback, uninstall), as thin
 * calls into the install engine; what happens on the way goes out as installs.runProgress
 * events under the caller's progress id, which also names the run to cancel.
 */
export function createInstallRunHandlers({ installs, hub }: InstallRunDeps): Pick<MethodHandlers, RunMethod> {
  const running = new Map<string, AbortController>();

  function follow<T>(progressId: string | undefined, run: (followed: Followed) => Promise<T>): Promise<T> {
    if (progressId === undefined) return run({});
    if (running.has(progressId)) {
      throw new ApiError(
        'BAD_PARAMS',
        `A run with the progress id ${progressId} is going already.`,
        'Give each run a progress id of its own (a random UUID).',
      );
    }
    const controller = new AbortController();
    running.set(progressId, controller);
    const onEvent = (event: InstallEvent) => hub.emit('installs.runProgress', { progressId, event });
    return run({ onEvent, signal: controller.signal }).finally(() => running.delete(progressId));
  }

  return {
    'installs.planFile': ({ file }) => installs.plan(installFileOf(file)),
    'installs.applyFile': ({ file, concurrency, allowDowngrade, progressId }): Promise<Answer<'installs.applyFile', ApplyResult>> =>
      follow(progressId, (followed) =>
        installs.apply(installFileOf(file), {
          ...(concurrency !== undefined ? { concurrency } : {}),
          ...(allowDowngrade !== undefined ? { allowDowngrade } : {}),
          ...followed,
        }),
      ),
    'installs.rollbackFile': ({ file, host, to, progressId }): Promise<Answer<'installs.rollbackFile', RollbackResult>> =>
      follow(progressId, (followed) =>
        installs.rollback(installFileOf(file), {
          ...(host !== undefined ? { host } : {}),
          ...(to !== undefined ? { to } : {}),
          ...followed,
        }),
      ),
    'installs.uninstallFile': ({ file, host, progressId }): Promise<Answer<'installs.uninstallFile', UninstallResult>> =>
      // Not cut halfway: a host would be left with some of its paths removed.
      follow(progressId, ({ onEvent }) =>
        installs.uninstall(installFileOf(file), { ...(host !== undefined ? { host } : {}), ...(onEvent ? { onEvent } : {}) }),
      ),
    'installs.cancelRun': ({ progressId }) => {
      const run = running.get(progressId);
      run?.abort();
      return { cancelled: run !== undefined };
    },
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
