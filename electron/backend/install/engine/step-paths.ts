import type { ServiceKind } from '../../store/installs-repo';
import type { AbsentName, HostCheck } from '../plan/host-check';
import { SYSTEMD_UNIT_PATH, type InstallLayout, type ReleaseLayout } from '../definition/install-layout';
import type { StepName } from './install-steps';
import { withinPlan } from '../remote/script-prelude';

/**
 * Which of the install's paths each step of apply may make where nothing was. The same
 * table decides what a step's reports are checked against (a path made outside it is not
 * recorded) and what is recorded in the store BEFORE the step runs, so that an apply cut
 * off in the middle (kill -9) leaves nothing that uninstall does not know about.
 */
export function namesMadeBy(step: StepName, service: ServiceKind): AbsentName[] {
  switch (step) {
    case 'upload':
      return ['root', 'staging'];
    case 'unpack':
      return ['releases', 'release'];
    case 'configure':
      return ['root', 'staging', 'config', 'state', 'log', 'link'];
    case 'service':
      return ['root', 'staging', service === 'systemd' ? 'unit' : 'bin'];
    case 'switch':
      return ['current'];
    default:
      return [];
  }
}

export function pathOfName(name: AbsentName, layout: InstallLayout, release: ReleaseLayout): string {
  const paths: Record<AbsentName, string> = {
    root: layout.root,
    staging: layout.staging,
    releases: layout.releases,
    release: release.dir,
    config: layout.configDir,
    state: layout.stateDir,
    log: layout.logDir,
    link: layout.configLink,
    current: layout.current,
    bin: layout.bin,
    unit: SYSTEMD_UNIT_PATH,
  };
  return paths[name];
}

/**
 * What to record before `step` runs: for each path it may make that the host check found
 * absent, the top-most directory making it creates. Only paths of the plan (or directories
 * above them) are taken, whatever the host said.
 */
export function pathsBeforeStep(
  step: StepName,
  host: { check: HostCheck; layout: InstallLayout; release: ReleaseLayout; service: ServiceKind },
): string[] {
  const names = namesMadeBy(step, host.service);
  const tops = names.flatMap((name) => {
    const top = host.check.absent.get(name);
    return top === undefined ? [] : [top];
  });
  return withinPlan(
    tops,
    names.map((name) => pathOfName(name, host.layout, host.release)),
  ).kept;
}
