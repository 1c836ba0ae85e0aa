import { isApiError, type ApiError } from '../../../contract';
import type { RuntimeTls } from '../../fleet/runtime-connection';
import type { InstallCa } from '../../pki/install-ca';
import type { HostRow } from '../../store/hosts-repo';
import type { InstallStepsRepo } from '../../store/install-steps-repo';
import type { InstallRow, InstallsRepo } from '../../store/installs-repo';
import type { InstallFile, InstallHostEntry } from '../definition/install-file';
import { asInstallError, planBlockedError, rolloutStoppedError, type ReturnTarget } from '../install-errors';
import { currentReleaseOf, previousRelease } from '../plan/plan-host';
import type { PreparedHost } from '../plan/prepare-host';
import { autoRollback, type AutoRollbackDeps } from './auto-rollback';
import type { BundleResolver, ResolvedBundle } from './bundle-resolution';
import { STEPS, SWITCH_STEPS, type HostApplyResult, type InstallEvent, type StepName, type StepOutcome } from './install-steps';
import { recordRelease, type RecordReleaseDeps } from './record-release';
import { recordServedCertificate } from './record-served-certificate';
import type { Limiter, Rollout } from './rollout';
import { HOST_STEPS, type HostStepName, type RuntimeLinks, type StepRun } from './run-host-steps';
import { pathsBeforeStep } from './step-paths';

/**
 * Upload progress arrives for every acknowledged 64 KiB write (1,600 times for 100 MB):
 * listeners hear at most one per UPLOAD_EVENT_MS and the store keeps one per
 * UPLOAD_STORE_MS, the last always, so reporting does not slow the upload it reports.
 */
const UPLOAD_EVENT_MS = 100;
const UPLOAD_STORE_MS = 500;

/** Steps that look rather than change: they never count as a change to the host. */
const CHECK_STEPS = new Set<StepName>(['connect', 'check-space', 'health']);
/** Once any of these changes the host, the runtime must (re)start and prove itself healthy again. */
const RESTART_CAUSES = new Set<StepName>(['unpack', 'configure', 'service']);

export interface ApplyHostDeps extends AutoRollbackDeps, RecordReleaseDeps {
  installs: AutoRollbackDeps['installs'] &
    RecordReleaseDeps['installs'] &
    Pick<InstallsRepo, 'host' | 'upsertHost' | 'setPlacement' | 'setHostState' | 'addCreatedPaths'>;
  releases: AutoRollbackDeps['releases'] & RecordReleaseDeps['releases'];
  steps: Pick<InstallStepsRepo, 'start' | 'finish' | 'progress'>;
  bundles: Pick<BundleResolver, 'verifyCopy'>;
}

/** What every host of one apply shares. */
export interface ApplyRun {
  file: InstallFile;
  bundle: ResolvedBundle;
  install: InstallRow;
  operator: { ca: InstallCa; tls: RuntimeTls };
  emit: (event: InstallEvent) => void;
  signal: AbortSignal | undefined;
  /** Each host's configuration as applied, by host name: the install's snapshot. */
  snapshot: Record<string, unknown>;
  slots: Limiter;
  /** Set in a rolling upgrade: the switch steps wait for the host's turn. */
  rollout: Rollout | null;
  /** The fleet's links (a serving backend's), which a reload goes through when the host's is up; null without. */
  links: RuntimeLinks | null;
  /** Logs in to a host and looks at it: what it has, and which of its steps are done. */
  prepare(entry: InstallHostEntry, row: HostRow): Promise<PreparedHost>;
}

/**
 * One host's apply: the look at the host, then each step the plan did not find done, in
 * order, every one recorded in the store before and after it runs (an interrupted apply
 * resumes where it stopped). A step that fails before the running release was touched
 * fails the host as it is; one after hands it to the automatic rollback. `index` is the
 * host's place in the install file, its turn in a rolling upgrade.
 */
export async function applyHost(
  deps: ApplyHostDeps,
  run: ApplyRun,
  entry: InstallHostEntry,
  row: HostRow,
  index: number,
): Promise<HostApplyResult> {
  const { file, bundle, install, operator, emit, signal, rollout } = run;
  const giveSlot = await run.slots.acquire();
  // Settled exactly once, on every path: a host after this one waits for it in a rollout.
  let stopsRollout: string | null = null;
  try {
    return await applyHostSteps();
  } finally {
    giveSlot();
    rollout?.settle(index, stopsRollout);
  }

  async function applyHostSteps(): Promise<HostApplyResult> {
    const version = bundle.version;
    const key = (step: StepName) => ({ installId: install.id, hostId: row.id, releaseVersion: version, step });
    const steps: HostApplyResult['steps'] = [];
    const report = (step: StepName, status: StepOutcome, detail: string) => {
      emit({ kind: 'step', host: row.name, step, status, detail });
      if (status !== 'running') steps.push({ step, status, detail });
    };
    const recordFailure = (step: StepName, error: ApiError) => {
      deps.steps.finish(
        key(step),
        { status: 'failed', changed: false, output: `${error.message}\n${outputOf(error)}`, errorCode: error.code },
        deps.now(),
      );
      report(step, 'failed', firstLine(error.message));
      for (const later of STEPS.slice(STEPS.indexOf(step) + 1)) report(later, 'skipped', 'not reached');
    };
    const failed = (error: ApiError): HostApplyResult => ({
      host: row.name,
      outcome: 'failed',
      steps,
      upload: null,
      error: error.toBody(),
    });
    const fail = (step: StepName, error: ApiError): HostApplyResult => {
      recordFailure(step, error);
      deps.installs.setHostState(install.id, row.id, 'failed', deps.now());
      return failed(error);
    };

    // The host's record keeps its last configuration until this apply has a new one (uninstall and rollback read it).
    const recordedConfig = deps.installs.host(install.id, row.id)?.config ?? '{}';
    deps.installs.upsertHost(
      { installId: install.id, hostId: row.id, role: entry.role, gpu: entry.gpu ?? false, config: recordedConfig },
      deps.now(),
    );
    report('connect', 'running', `${row.user}@${row.address}:${row.port}`);
    deps.steps.start(key('connect'), deps.now());
    // A host not on this bundle yet will likely need it uploaded: the local copy's check
    // (once per engine, shared by the hosts) runs while this one connects and looks.
    const current = deps.releases.current(row.id);
    if (current === null || current.bundleSha256 !== bundle.sha256) deps.bundles.verifyCopy(bundle).catch(() => undefined);
    let host: PreparedHost;
    try {
      host = await run.prepare(entry, row);
    } catch (error) {
      return fail('connect', asInstallError(error, 'Apply again'));
    }
    const cut = () => host.session.close();
    signal?.addEventListener('abort', cut, { once: true });
    if (signal?.aborted) cut();
    try {
      deps.installs.upsertHost(
        { installId: install.id, hostId: row.id, role: entry.role, gpu: host.gpu, config: JSON.stringify(host.config) },
        deps.now(),
      );
      deps.installs.setPlacement(install.id, row.id, { mode: host.mode, rootDir: host.layout.root, service: host.service }, deps.now());
      deps.installs.setHostState(install.id, row.id, 'installing', deps.now());
      run.snapshot[row.name] = host.config;

      const connect = host.steps.steps[0]!;
      const connectOutput = host.runtimeLook === null ? connect.detail : `${connect.detail}\n${host.runtimeLook}`;
      deps.steps.finish(key('connect'), { status: 'done', changed: false, output: connectOutput }, deps.now());
      report('connect', 'done', connect.detail);
      // Something the plan found stops the host before anything is written to it.
      const blocked = host.steps.steps.find((s) => s.state === 'blocked');
      if (blocked) return refuse(blocked.step, host.steps.blocked ?? planBlockedError(blocked.detail));

      // What the host returns to when the new release fails once it touched the running one.
      const previous = previousRelease(host.check, version);
      let changed = false;
      let mustRestart = false;
      let reconfiguredRunning = false;
      let upload: HostApplyResult['upload'] = null;
      let turnTaken = false;
      const uploadReport = { emitted: 0, stored: 0 };
      for (const planned of host.steps.steps.slice(1)) {
        const { step } = planned;
        if (rollout && SWITCH_STEPS.has(step) && !turnTaken) {
          // Upload, unpack and configure may run ahead; the switch waits for this host's turn.
          turnTaken = true;
          giveSlot();
          const stopper = await rollout.turn(index);
          if (stopper !== null) return stopped(stopper, step, host);
        }
        deps.steps.start(key(step), deps.now());
        const forced = (step === 'start' && mustRestart) || (step === 'health' && mustRestart);
        if (planned.state === 'done' && !forced) {
          deps.steps.finish(key(step), { status: 'done', changed: false, output: planned.detail }, deps.now());
          report(step, 'already-done', planned.detail);
          continue;
        }
        if (step === 'check-space') {
          // Done by the look at the host this apply began with.
          deps.steps.finish(key(step), { status: 'done', changed: false, output: planned.detail }, deps.now());
          report(step, 'done', planned.detail);
          continue;
        }
        report(step, 'running', planned.detail);
        let done: StepRun;
        // What the step may make is recorded before it runs: cut off in the middle, the apply leaves nothing uninstall does not know.
        deps.installs.addCreatedPaths(install.id, row.id, pathsBeforeStep(step, host), deps.now());
        try {
          if (step === 'upload') await deps.bundles.verifyCopy(bundle);
          if (step === 'record') done = await recordRelease(deps, install, row, host, bundle);
          else {
            done = await HOST_STEPS[step as HostStepName]({
              host,
              installName: file.name,
              bundle,
              ca: operator.ca,
              operatorTls: operator.tls,
              links: run.links,
              signal,
              onUpload: (progress) => {
                const now = Date.now();
                const last = progress.bytesOnHost === progress.totalBytes;
                if (last || now - uploadReport.emitted >= UPLOAD_EVENT_MS) {
                  uploadReport.emitted = now;
                  emit({ kind: 'upload', host: row.name, ...progress });
                }
                if (last || now - uploadReport.stored >= UPLOAD_STORE_MS) {
                  uploadReport.stored = now;
                  deps.steps.progress(
                    key('upload'),
                    `${progress.bytesOnHost} of ${progress.totalBytes} bytes on the host (resumed from ${progress.resumedFrom})`,
                  );
                }
              },
            });
            if (step === 'health') {
              const served = await recordServedCertificate(
                {
                  hostId: row.id,
                  session: host.session,
                  runtimeAddress: host.config.runtime.listen_address,
                  runtimePort: host.config.runtime.grpc_port,
                },
                operator.tls,
                { certificates: deps.runtimeCertificates, now: deps.now },
              );
              done = { ...done, output: `${done.output}\n${served}` };
            }
          }
        } catch (error) {
          const failure = asInstallError(error, 'Apply again');
          if (!SWITCH_STEPS.has(step)) return fail(step, failure);
          // The running release was touched: in a rollout nothing after this host moves.
          if (rollout) stopsRollout = row.name;
          // A link cut (the app closed, the network gone) leaves the host as it is: the next apply resumes.
          if (host.session.closed || host.session.lost !== null) return fail(step, failure);
          if (previous === null && !reconfiguredRunning) return fail(step, failure);
          const to: ReturnTarget = previous !== null ? { kind: 'release', previous } : { kind: 'configuration' };
          recordFailure(step, failure);
          // The install's snapshot keeps the configuration the host runs again.
          if (to.kind === 'configuration') run.snapshot[row.name] = JSON.parse(recordedConfig) as unknown;
          const returned = await autoRollback(deps, {
            host,
            installId: install.id,
            installName: file.name,
            bundleSha256: bundle.sha256,
            failed: { host: row.name, version, step, failure, rollout: rollout !== null },
            to,
            recordedConfig,
            tls: operator.tls,
            links: run.links,
            signal,
            emit,
          });
          return failed(returned);
        }
        if (done.upload) upload = { resumedFrom: done.upload.resumedFrom, bytesSent: done.upload.bytesSent };
        deps.installs.addCreatedPaths(install.id, row.id, done.created, deps.now());
        const isChange = !CHECK_STEPS.has(step);
        changed ||= isChange;
        if (RESTART_CAUSES.has(step) || step === 'start') mustRestart = true;
        // The release that runs got a new configuration; configure kept the one it replaced.
        if (step === 'configure' && currentReleaseOf(host.check) === version) reconfiguredRunning = true;
        deps.steps.finish(key(step), { status: 'done', changed: isChange, output: done.output }, deps.now());
        report(step, 'done', done.detail);
      }
      deps.installs.setHostState(install.id, row.id, 'installed', deps.now());
      return { host: row.name, outcome: changed ? 'installed' : 'unchanged', steps, upload, error: null };
    } finally {
      signal?.removeEventListener('abort', cut);
      host.session.close();
    }

    /** The plan found a reason to stop: nothing is done on the host, the reason is the blocked step's. */
    function refuse(step: StepName, error: ApiError): HostApplyResult {
      for (const other of STEPS.slice(1)) {
        if (other === step) {
          deps.steps.start(key(step), deps.now());
          deps.steps.finish(key(step), { status: 'failed', changed: false, output: error.message, errorCode: error.code }, deps.now());
          report(step, 'failed', firstLine(error.message));
        } else report(other, 'skipped', `not run: ${row.name} is refused at ${step}`);
      }
      deps.installs.setHostState(install.id, row.id, deps.releases.current(row.id) ? 'installed' : 'failed', deps.now());
      return failed(error);
    }

    /** An earlier host stopped the rollout: this one keeps running what it ran. */
    function stopped(stopper: string, from: StepName, host: PreparedHost): HostApplyResult {
      for (const later of STEPS.slice(STEPS.indexOf(from))) report(later, 'skipped', `the rollout stopped at ${stopper}`);
      const current = currentReleaseOf(host.check);
      deps.installs.setHostState(install.id, row.id, current !== null ? 'installed' : 'planned', deps.now());
      return failed(rolloutStoppedError(row.name, version, stopper, current));
    }
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0]!;
}

/** The script output an ApiError carries as its cause, for the step's record. */
function outputOf(error: ApiError): string {
  const cause = error.cause;
  return cause instanceof Error && !isApiError(cause) ? cause.message : '';
}
