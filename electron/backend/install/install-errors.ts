import { ApiError, isApiError } from '../../contract';
import type { HostRow } from '../store/hosts-repo';
import { UNLOCK_VAULT_REMEDY } from '../secrets/secret-vault';

/**
 * Every way planning, applying, rolling back or uninstalling an install refuses or fails,
 * each with its code and a remedy. Messages name the install file, the host and the
 * release, because that is what the operator acts on; the step that failed says the rest.
 */

const IMPORT_AGAIN = 'Import the bundle file again (sutazai bundle import FILE): it restores the copy.';

/** Anything that is not an ApiError yet: a bug, or a failure no step foresaw. `retry` starts the remedy ("Apply again"). */
export function asInstallError(error: unknown, retry: 'Apply again' | 'Try again'): ApiError {
  if (isApiError(error)) return error;
  return new ApiError(
    'INSTALL_STEP_FAILED',
    `Unexpected failure: ${(error as Error)?.message ?? String(error)}`,
    `${retry}; if it keeps failing, send the app log with your report.`,
    { cause: error },
  );
}

// The bundle an install file names.

export function bundleNotImportedError(installFile: string, name: string, version: string): ApiError {
  return new ApiError(
    'NOT_FOUND',
    `${installFile}: no imported bundle is ${name}@${version}.`,
    // A page names imported bundles only (a path from a browser is refused): the Bundles page imports an upload.
    'Import it first on the Bundles page (choose the bundle file from your computer); the Bundles page lists the imported ones.',
    {
      cliRemedy:
        "Import it first (sutazai bundle import FILE), or give the bundle file's path in the install file; `sutazai bundle list` shows the imported ones.",
    },
  );
}

export function bundleRecordMissingError(): ApiError {
  return new ApiError('INTERNAL', 'The imported bundle has no record.', 'Import the bundle again.');
}

export function importedCopyMissingError(bundle: { name: string; version: string }, file: string): ApiError {
  return new ApiError(
    'BUNDLE_UNREADABLE',
    `The imported copy of ${bundle.name}@${bundle.version} (${file}) is missing or damaged.`,
    IMPORT_AGAIN,
  );
}

/** The imported copy changed on the disk since its import: `size` is what it is now (null: gone). */
export function importedCopyWrongSizeError(
  bundle: { name: string; version: string; file: string; sizeBytes: number },
  size: number | null,
): ApiError {
  return new ApiError(
    'BUNDLE_CORRUPT',
    `The imported copy of ${bundle.name}@${bundle.version} (${bundle.file}) is ${size !== null ? `${size} bytes, not ${bundle.sizeBytes}` : 'missing'}; nothing was uploaded.`,
    IMPORT_AGAIN,
  );
}

export function importedCopyDamagedError(
  bundle: { name: string; version: string; file: string; sha256: string },
  actual: string,
): ApiError {
  return new ApiError(
    'BUNDLE_CORRUPT',
    `The imported copy of ${bundle.name}@${bundle.version} (${bundle.file}) was damaged since it was imported: its SHA-256 is ${actual}, not ${bundle.sha256}; nothing was uploaded.`,
    'Import the bundle file again (sutazai bundle import FILE) from a good copy: it restores the imported one.',
  );
}

export function systemdUnitMissingError(hostName: string, bundle: { name: string; version: string }): ApiError {
  return new ApiError(
    'BUNDLE_FILE_MISSING',
    `${hostName} runs systemd, and the bundle ${bundle.name}@${bundle.version} carries no systemd unit.`,
    'Use a bundle built from a SutazAI checkout (npm run bundle), which carries systemd/sutazai-runtime.service.',
  );
}

// The hosts an install file names, and the install itself.

export function hostNotInInventoryError(installFile: string, hostName: string): ApiError {
  return new ApiError(
    'HOST_NOT_FOUND',
    `${installFile}: host ${hostName} is not in the inventory.`,
    `Add ${hostName} to the inventory first (the Hosts page, or hosts add from the command line), or correct the name.`,
  );
}

export function localHostTargetError(installFile: string, hostName: string): ApiError {
  return new ApiError(
    'HOST_IS_LOCAL',
    `${installFile}: ${hostName} is the machine this app runs on; installs go to SSH hosts.`,
    'Add this machine as an SSH host (its address and a login) if it should run SutazAI.',
  );
}

export function hostInOtherInstallError(hostName: string, otherInstall: string): ApiError {
  return new ApiError(
    'INSTALL_CONFLICT',
    `${hostName} already belongs to the install ${otherInstall}; a host runs one runtime.`,
    `Remove ${hostName} from this install file, or uninstall ${otherInstall} from it first.`,
  );
}

export function installNotFoundError(installFile: { name: string; file: string }): ApiError {
  return new ApiError(
    'NOT_FOUND',
    `Nothing is installed under the name ${installFile.name} (${installFile.file}).`,
    'Check the name: in the install file against the Installs page; the install wizard installs a new one.',
    { cliRemedy: 'Check the name: in the install file; `sutazai apply --install FILE` installs it first.' },
  );
}

export function hostNotInInstallError(hostName: string, installName: string, hosts: readonly string[]): ApiError {
  return new ApiError(
    'HOST_NOT_FOUND',
    `${hostName} is not a host of the install ${installName}.`,
    `Its hosts: ${hosts.join(', ') || 'none'}.`,
  );
}

export function hostNeverInstalledError(hostName: string): ApiError {
  return new ApiError(
    'NOT_FOUND',
    `${hostName} was never installed (no apply got past connecting to it).`,
    'Apply the install to it first.',
  );
}

/** `doing` starts the message ("Applying an install"), `retry` ends the remedy ("apply again"). */
export function installSecretsLockedError(doing: string, retry: string): ApiError {
  return new ApiError(
    'SECRETS_LOCKED',
    `${doing} needs the sealed secrets (the install's CA key, sudo passwords), and they are locked.`,
    `${UNLOCK_VAULT_REMEDY} Then ${retry}.`,
  );
}

// Logging in and looking at a host.

export function privilegeLostError(row: Pick<HostRow, 'name' | 'user'>, sudoAsksPassword: boolean): ApiError {
  return new ApiError(
    'INSTALL_PRIVILEGE_MISSING',
    `${row.name} was installed system-wide, and its login (${row.user}) has neither root nor sudo now${sudoAsksPassword ? ' (sudo asks for a password that is not stored)' : ''}.`,
    "Restore the login's sudo rights (or store its sudo password) and probe the host again, then try again.",
  );
}

export function hostCheckFailedError(hostName: string, exit: string | number | null, said: string): ApiError {
  return new ApiError(
    'INSTALL_STEP_FAILED',
    `Checking ${hostName} failed (exit ${exit}): ${said.trim().slice(0, 300)}`,
    'Check that the login works and that sh, df, stat and sha256sum exist on the host, then plan again.',
  );
}

/** A step the plan found blocked without a reason of its own. */
export function planBlockedError(detail: string): ApiError {
  return new ApiError('INSTALL_STEP_FAILED', detail, 'See the plan.');
}

// Rolling upgrades and the automatic return of a host that failed one.

export function rolloutStoppedError(hostName: string, version: string, stopper: string, current: string | null): ApiError {
  return new ApiError(
    'INSTALL_ROLLOUT_STOPPED',
    `${hostName} was not switched to ${version}: the rolling upgrade stopped at ${stopper}, which failed (see it above)${current !== null ? `; ${hostName} still runs ${current}` : ''}.`,
    `Fix the cause on ${stopper}, then apply again: ${hostName} has ${version} uploaded and unpacked already, so only its switch is left.`,
  );
}

/**
 * What an automatic rollback returns a host to: the release it ran before, or (a new
 * configuration of the release that runs) that release's earlier configuration.
 */
export type ReturnTarget = { kind: 'release'; previous: string } | { kind: 'configuration' };

/** What failed, where: the release `version` at `step` on `host`. */
export interface FailedSwitch {
  host: string;
  version: string;
  step: string;
  failure: ApiError;
  /** A rolling upgrade, which stops at this host. */
  rollout: boolean;
}

export function autoRolledBackError(failed: FailedSwitch, to: ReturnTarget, health: string): ApiError {
  const { host, version, step, failure } = failed;
  if (to.kind === 'release') {
    return new ApiError(
      'INSTALL_ROLLED_BACK',
      `Release ${version} failed on ${host} at ${step}, and ${host} was returned to ${to.previous} (its binaries, configuration and service), which is healthy again (${health}); the rollout stopped. Why ${version} failed: ${failure.message}`,
      `Fix the cause in ${version} or in its configuration (the lines above say what the failing process wrote), then apply again; hosts after ${host} were left on their release.`,
    );
  }
  return new ApiError(
    'INSTALL_ROLLED_BACK',
    `The new configuration of ${version} failed on ${host} at ${step}, and ${host} was returned to its earlier configuration, which is healthy again (${health})${failed.rollout ? '; the rollout stopped' : ''}. Why it failed: ${failure.message}`,
    `Fix the configuration (the lines above say what the failing process wrote), then apply again${failed.rollout ? `; hosts after ${host} were left as they were` : ''}.`,
  );
}

export function autoRollbackFailedError(failed: FailedSwitch, to: ReturnTarget, why: ApiError): ApiError {
  const { host, version, step, failure } = failed;
  if (to.kind === 'release') {
    return new ApiError(
      'INSTALL_ROLLBACK_FAILED',
      `Release ${version} failed on ${host} at ${step}, and returning to ${to.previous} failed too: ${why.message} Why ${version} failed: ${failure.message}`,
      `${why.remedy} Then roll ${host} back to ${to.previous}.`,
    );
  }
  return new ApiError(
    'INSTALL_ROLLBACK_FAILED',
    `The new configuration of ${version} failed on ${host} at ${step}, and returning to the earlier configuration failed too: ${why.message} Why it failed: ${failure.message}`,
    `${why.remedy} Then fix the configuration and apply again.`,
  );
}

// Rolling back to a kept release by hand.

export function releaseNotKeptError(hostName: string, version: string, kept: string): ApiError {
  return new ApiError(
    'NOT_FOUND',
    `${hostName} keeps no release ${version}; its releases: ${kept}.`,
    'Name one of them with --to VERSION, or leave --to out for the previous one.',
  );
}

export function noPreviousReleaseError(hostName: string, kept: string): ApiError {
  return new ApiError(
    'NOT_FOUND',
    `${hostName} keeps no previous release to return to; its releases: ${kept}.`,
    'Name a kept release with --to VERSION, or apply an install file with the release you want.',
  );
}

export function rollbackStoppedError(hostName: string, stopper: string): ApiError {
  return new ApiError(
    'INSTALL_ROLLOUT_STOPPED',
    `${hostName} was left as it is: the rollback stopped at ${stopper}.`,
    `Fix the cause on ${stopper}, then roll back again.`,
  );
}

/** A rollback's target did not come up on `host`, which went back to `from`. */
export function rollbackReturnedError(host: string, target: string, from: string, health: string, failure: ApiError): ApiError {
  return new ApiError(
    'INSTALL_ROLLED_BACK',
    `${target} did not come up on ${host}, which was returned to ${from} (healthy again: ${health}). Why ${target} failed: ${failure.message}`,
    `Fix what the lines above say, then roll ${host} back to ${target} again, or to another release it keeps.`,
  );
}

export function rollbackReturnFailedError(host: string, target: string, from: string, why: ApiError, failure: ApiError): ApiError {
  return new ApiError(
    'INSTALL_ROLLBACK_FAILED',
    `${target} did not come up on ${host}, and returning to ${from} failed too: ${why.message} Why ${target} failed: ${failure.message}`,
    `${why.remedy} Then roll ${host} back again, to the release it should run.`,
  );
}

// A kept release as the host has it (read before it is activated again).

/** `said` is the reading script's last line: which release or file is missing. */
export function releaseNotOnHostError(hostName: string, said: string): ApiError {
  return new ApiError(
    'NOT_FOUND',
    `${hostName}: ${said}.`,
    'Choose a release that is kept on the host (the install’s hosts list them), or apply the install again.',
  );
}

export function releaseReadIncompleteError(version: string, hostName: string): ApiError {
  return new ApiError(
    'INSTALL_STEP_FAILED',
    `Reading release ${version} on ${hostName} gave an incomplete answer.`,
    'Try again; if it keeps failing, check the release directory on the host.',
  );
}

/** A file of a kept release that apply wrote is not as it wrote it: `what` says which and how. */
export function releaseFileChangedError(what: string, file: 'configuration' | 'manifest', cause?: unknown): ApiError {
  return new ApiError(
    'INSTALL_STEP_FAILED',
    `${what}.`,
    `The release's ${file} was changed by hand; apply the install again to write it.`,
    cause !== undefined ? { cause } : undefined,
  );
}

export function releaseUnitMissingError(version: string, dir: string): ApiError {
  return new ApiError(
    'BUNDLE_FILE_MISSING',
    `Release ${version} in ${dir} carries no systemd unit (systemd/sutazai-runtime.service).`,
    'Roll back to a release built from a SutazAI checkout (npm run bundle), which carries the unit.',
  );
}
