import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cgroupPath, killCgroupSync, listTopCgroups, removeCgroupTreeSync } from './cgroups';
import { NETNS_ETC_DIR, removeNetnsEtcSync } from './control-center';
import { removeShellsSync, listShells } from './etc-shells';
import { pidsInNamespaces, terminateSync } from './kill-processes';
import { deleteNetwork, listLinks, listNamespaces } from './netns';
import { parseRunId } from './resource-names';
import {
  holdRun,
  isRunAlive,
  recordedRunIds,
  releaseRun,
  releaseSubnet,
  removeStaleHolds,
  staleSubnetClaims,
  subnetsOf,
  unregisterRun,
} from './run-registry';
import { removeSudoersSync, SUDO_STATE_DIRS } from './sudoers';
import { deleteUsersSync, listUsers } from './test-users';

// Removal by name: whatever carries a run's id is that run's, whether the run got to
// record it or crashed halfway through making it. The same code tears down a live lab
// (destroy, exit handlers) and sweeps what dead runs left behind.

export interface RunLeftovers {
  namespaces: string[];
  veths: string[];
  bridges: string[];
  users: string[];
  sudoersFiles: string[];
  /** Files sudo made for the run's users (timestamps, lecture marks). */
  sudoState: string[];
  shells: string[];
  tempDirs: string[];
  /** /etc/netns/<namespace> directories (a control center's resolv.conf). */
  netnsEtcDirs: string[];
  /** cgroup2 trees of systemd test hosts, named like their namespace (systemd-host.ts). */
  cgroups: string[];
}

/** Everything on the machine that carries a harness run id, grouped by run id. */
export function findHarnessObjects(): Map<string, RunLeftovers> {
  const byRun = new Map<string, RunLeftovers>();
  const entry = (runId: string): RunLeftovers => {
    let found = byRun.get(runId);
    if (found === undefined) {
      found = emptyLeftovers();
      byRun.set(runId, found);
    }
    return found;
  };
  const collect = (items: readonly string[], parse: (name: string) => string | undefined, add: (l: RunLeftovers, item: string) => void) => {
    for (const item of items) {
      const runId = parse(item);
      if (runId !== undefined) add(entry(runId), item);
    }
  };
  collect(listNamespaces(), parseRunId.namespace, (l, ns) => l.namespaces.push(ns));
  const links = listLinks();
  collect(links, parseRunId.veth, (l, link) => l.veths.push(link));
  collect(links, parseRunId.bridge, (l, link) => l.bridges.push(link));
  collect(listUsers(), parseRunId.user, (l, user) => l.users.push(user));
  collect(readDir('/etc/sudoers.d'), parseRunId.sudoersFile, (l, f) => l.sudoersFiles.push(path.join('/etc/sudoers.d', f)));
  for (const dir of SUDO_STATE_DIRS) {
    collect(readDir(dir), parseRunId.user, (l, user) => l.sudoState.push(path.join(dir, user)));
  }
  collect(listShells(), parseRunId.shellsLine, (l, shell) => l.shells.push(shell));
  collect(readDir(os.tmpdir()), parseRunId.tempDir, (l, dir) => l.tempDirs.push(path.join(os.tmpdir(), dir)));
  collect(readDir(NETNS_ETC_DIR), parseRunId.namespace, (l, dir) => l.netnsEtcDirs.push(path.join(NETNS_ETC_DIR, dir)));
  collect(listTopCgroups(), parseRunId.namespace, (l, name) => l.cgroups.push(cgroupPath(name)));
  return byRun;
}

/**
 * Stops every process in the run's namespaces (and the given extra targets: daemon
 * process groups as negative numbers), then deletes links, namespaces, users, the
 * sudoers drop-in, /etc/shells lines, /etc/netns entries, the temp dir and the registry
 * entries. Idempotent.
 * Throws one error listing every step that failed, after trying them all.
 */
export function removeRunSync(runId: string, extraTargets: readonly number[] = [], found?: RunLeftovers): void {
  const leftovers = found ?? findHarnessObjects().get(runId) ?? emptyLeftovers();
  const failures: string[] = [];
  const step = (what: string, action: () => void) => {
    try {
      action();
    } catch (error) {
      failures.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  // A systemd host first: SIGKILL to its cgroup tree ends its PID 1 and all it runs at once
  // (SIGTERM would only make systemd re-execute itself and restart its units).
  step('stop systemd hosts', () => {
    const survivors = leftovers.cgroups.flatMap(killCgroupSync);
    if (survivors.length > 0) throw new Error(`still alive after SIGKILL: ${survivors.join(', ')}`);
  });
  step('stop processes', () => {
    const survivors = terminateSync([...extraTargets, ...pidsInNamespaces(leftovers.namespaces)]);
    if (survivors.length > 0) throw new Error(`still alive after SIGKILL: ${survivors.join(', ')}`);
  });
  step('delete namespaces, veths and bridge', () => deleteNetwork(leftovers));
  step('remove cgroups', () => leftovers.cgroups.forEach(removeCgroupTreeSync));
  step('delete users', () => deleteUsersSync(leftovers.users));
  step('remove sudoers drop-in', () => leftovers.sudoersFiles.forEach(removeSudoersSync));
  step('remove sudo state', () => leftovers.sudoState.forEach((file) => fs.rmSync(file, { force: true })));
  step('remove /etc/shells lines', () => removeShellsSync(leftovers.shells));
  step('remove /etc/netns entries', () => removeNetnsEtcSync(leftovers.netnsEtcDirs));
  step('remove temp dir', () => leftovers.tempDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
  step('release subnet', () => subnetsOf(runId).forEach(releaseSubnet));
  step('unregister run', () => unregisterRun(runId));
  if (failures.length > 0) throw new Error(`test hosts: tearing down run ${runId} left work undone: ${failures.join('; ')}`);
}

/**
 * Removes what crashed earlier runs left behind; runs whose owner process is alive
 * (other test workers, right now) are not touched, nor dead runs another live process
 * holds (sweeping them, or a test looking at them: holdRun). Returns the run ids swept.
 */
export function sweepLeftovers(): string[] {
  const swept: string[] = [];
  const failures: string[] = [];
  for (const [runId, leftovers] of findHarnessObjects()) {
    // Another live process is sweeping this run (or a test holds it to look at it): its own.
    if (isRunAlive(runId) || !holdRun(runId)) continue;
    try {
      removeRunSync(runId, [], leftovers);
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error));
    } finally {
      releaseRun(runId);
    }
    swept.push(runId);
  }
  // Records and claims of dead runs that had made nothing yet.
  for (const runId of recordedRunIds()) {
    if (isRunAlive(runId) || !holdRun(runId)) continue;
    unregisterRun(runId);
    releaseRun(runId);
  }
  for (const claim of staleSubnetClaims()) releaseSubnet(claim.subnet);
  removeStaleHolds();
  if (failures.length > 0) throw new Error(failures.join('\n'));
  return swept;
}

function emptyLeftovers(): RunLeftovers {
  return {
    namespaces: [],
    veths: [],
    bridges: [],
    users: [],
    sudoersFiles: [],
    sudoState: [],
    shells: [],
    tempDirs: [],
    netnsEtcDirs: [],
    cgroups: [],
  };
}

function readDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
