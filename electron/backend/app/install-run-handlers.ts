import path from 'node:path';
import { ApiError, type Action, type InstallFileRef, type MethodResult } from '../../contract';
import type { AccessTarget, PolicyGate } from '../access/policy-gate';
import type { EventHub } from '../events/event-hub';
import { parseInstallFile, readInstallFile, type InstallFile } from '../install/definition/install-file';
import type { Caller } from '../server/dispatcher';
import type { InstallEngine } from '../install/engine/install-engine';
import type { ApplyResult, InstallEvent, RollbackResult, UninstallResult } from '../install/engine/install-steps';
import type { EventSources, MethodHandlers } from '../server/dispatcher';

export interface InstallRunDeps {
  installs: InstallEngine;
  hub: EventHub;
  /**
   * access_control: abac for the install a file names: its name is inside the file, out of
   * with-access.ts's sight, so the run judges it here once the file is read.
   */
  installPolicy?: Pick<PolicyGate, 'check'>;
}

/** What a run's file was judged as: the action on its install (and host). */
interface Judged {
  action: Action;
  target: AccessTarget;
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
export function createInstallRunHandlers({ installs, hub, installPolicy }: InstallRunDeps): Pick<MethodHandlers, RunMethod> {
  /**
   * Each followed run by its progress id, with what it was judged as (its cancel is judged the
   * same) and whether a cancel stops it (an uninstall is never cut halfway).
   */
  const running = new Map<string, { controller: AbortController; judgedAs: Judged; cancellable: boolean }>();

  /** The file read once (the engine gets what was judged), and the caller's operator judged on its install. */
  function judged(ref: InstallFileRef, caller: Caller, action: Action, host: string | undefined): { file: InstallFile; as: Judged } {
    const file = installFileOf(ref);
    const as: Judged = { action, target: { install: file.name, hostName: host } };
    if (installPolicy !== undefined && caller.operator !== undefined) installPolicy.check(caller.operator, action, as.target);
    return { file, as };
  }

  /** Runs a judged file under its progress id (cancellable, judged on cancel as it was judged to run). */
  function follow<T>(
    progressId: string | undefined,
    judgedAs: Judged,
    run: (followed: Followed) => Promise<T>,
    cancellable = true,
  ): Promise<T> {
    if (progressId === undefined) return run({});
    if (running.has(progressId)) {
      throw new ApiError(
        'BAD_PARAMS',
        `A run with the progress id ${progressId} is going already.`,
        'Give each run a progress id of its own (a random UUID).',
      );
    }
    const entry = { controller: new AbortController(), judgedAs, cancellable };
    running.set(progressId, entry);
    const onEvent = (event: InstallEvent) => hub.emit('installs.runProgress', { progressId, event });
    return Promise.resolve()
      .then(() => run({ onEvent, signal: entry.controller.signal }))
      .finally(() => running.delete(progressId));
  }

  // async: a refusal while the file is read and judged is a rejection, as the engine's own failures are.
  return {
    'installs.planFile': async ({ file }, caller) => installs.plan(judged(file, caller, 'view', undefined).file),
    'installs.applyFile': async (
      { file, concurrency, allowDowngrade, progressId },
      caller,
    ): Promise<Answer<'installs.applyFile', ApplyResult>> => {
      const run = judged(file, caller, 'install', undefined);
      return follow(progressId, run.as, (followed) =>
        installs.apply(run.file, {
          ...(concurrency !== undefined ? { concurrency } : {}),
          ...(allowDowngrade !== undefined ? { allowDowngrade } : {}),
          ...followed,
        }),
      );
    },
    'installs.rollbackFile': async ({ file, host, to, progressId }, caller): Promise<Answer<'installs.rollbackFile', RollbackResult>> => {
      const run = judged(file, caller, 'rollback', host);
      return follow(progressId, run.as, (followed) =>
        installs.rollback(run.file, {
          ...(host !== undefined ? { host } : {}),
          ...(to !== undefined ? { to } : {}),
          ...followed,
        }),
      );
    },
    'installs.uninstallFile': async ({ file, host, progressId }, caller): Promise<Answer<'installs.uninstallFile', UninstallResult>> => {
      const run = judged(file, caller, 'uninstall', host);
      // Not cut halfway: a host would be left with some of its paths removed.
      return follow(
        progressId,
        run.as,
        ({ onEvent }) =>
          installs.uninstall(run.file, {
            ...(host !== undefined ? { host } : {}),
            ...(onEvent ? { onEvent } : {}),
          }),
        false,
      );
    },
    'installs.cancelRun': ({ progressId }, caller) => {
      const run = running.get(progressId);
      // Judged as the run itself was (its install, action and host): stopping it is as much a change as running it.
      if (run !== undefined && installPolicy !== undefined && caller.operator !== undefined)
        installPolicy.check(caller.operator, run.judgedAs.action, run.judgedAs.target);
      // An uninstall runs to its end: answering true would tell the caller it stopped when it did not.
      if (run === undefined || !run.cancellable) return { cancelled: false };
      run.controller.abort();
      return { cancelled: true };
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

/** A path is read, a text parsed as a file of its name. */
function installFileOf(ref: InstallFileRef): InstallFile {
  return 'path' in ref ? readInstallFile(ref.path) : parseInstallFile(ref.text, path.resolve(ref.fileName));
}

/**
 * The engine's result type, checked to be the contract's both ways: a field the engine
 * adds without the contract would be dropped on the way to every client.
 */
type Answer<M extends RunMethod, T> = [T] extends [MethodResult<M>] ? ([MethodResult<M>] extends [T] ? T : never) : never;
