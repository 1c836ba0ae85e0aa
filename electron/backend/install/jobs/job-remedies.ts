import { ApiError, type InstallJobKind } from '../../../contract';

/**
 * What an operator does about a job that did not run to its end. Every kind resumes by
 * being run again: apply and upgrade find the steps already done on each host (an upload
 * goes on from the bytes already there), a rollback leaves a host already back alone, an
 * uninstall has forgotten the hosts it removed.
 */
const RESUME: Record<InstallJobKind, (install: string) => string> = {
  apply: () =>
    'Install again (the wizard’s Install again button, or the same install started again): the steps already done on each host are found done, and an upload resumes from the bytes already on the host.',
  upgrade: (install) =>
    `Upgrade ${install} again from its page: hosts already switched stay on the new release, the others resume where they stopped (an upload from the bytes already on the host).`,
  rollback: (install) => `Roll ${install} back again from its page: a host already on the release asked for is left as it is.`,
  uninstall: (install) =>
    `Uninstall ${install} again from its page: hosts already removed are no longer part of it, the others are removed then.`,
};

const WHAT: Record<InstallJobKind, string> = { apply: 'install', upgrade: 'upgrade', rollback: 'rollback', uninstall: 'uninstall' };

export function cancelledError(kind: InstallJobKind, install: string): ApiError {
  return new ApiError(
    'INSTALL_CANCELLED',
    `The ${WHAT[kind]} of ${install} was cancelled: each host's connection was cut where it stood; no host was left with a half-switched release.`,
    RESUME[kind](install),
  );
}

export function interruptedError(kind: InstallJobKind, install: string): ApiError {
  return new ApiError(
    'INSTALL_INTERRUPTED',
    `The ${WHAT[kind]} of ${install} was interrupted: the control center's backend stopped while it ran.`,
    RESUME[kind](install),
  );
}
