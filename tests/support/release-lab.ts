import fs from 'node:fs';
import path from 'node:path';
import type { BuiltBundle } from '../../electron/backend/bundles/build-bundle';
import { checkoutSources, findCheckout } from '../../electron/backend/bundles/checkout-sources';
import type { BundleKit } from './bundle-kit';

/**
 * What the upgrade, rollback and uninstall tests share beyond install-lab.ts: a bundle whose
 * core cannot start (a release that fails its health check for real), a host's install tree
 * as the test reads it from the shared filesystem, and a snapshot of a file tree to compare
 * a host before an install with the host after its uninstall.
 */

/** The line the broken core writes before it exits: the rollback must show it to the operator. */
export const BROKEN_CORE_LINE = 'core: cannot open the task journal (injected by the install tests)';

/** A bundle of `version` like buildRealNodeBundle's, but whose core writes BROKEN_CORE_LINE and exits 3 at every start. */
export async function buildBrokenCoreBundle(kit: BundleKit, name: string, version: string): Promise<BuiltBundle> {
  const runtimeDir = path.join(kit.dir, `runtime-${name}`);
  fs.cpSync(kit.runtimeDir, runtimeDir, { recursive: true });
  fs.writeFileSync(
    path.join(runtimeDir, 'core.cjs'),
    `'use strict';\nconsole.error(${JSON.stringify(BROKEN_CORE_LINE)});\nprocess.exit(3);\n`,
  );
  return kit.build(name, {
    sources: checkoutSources(findCheckout(), runtimeDir, { 'linux-x64': process.execPath }),
    controlCenterRange: '*',
    version,
  });
}

/** A bundle of `version` that carries Node for linux-arm64 only: no artifact for the x86_64 test hosts. */
export async function buildArmOnlyBundle(kit: BundleKit, name: string, version: string): Promise<BuiltBundle> {
  return kit.build(name, {
    sources: checkoutSources(findCheckout(), kit.runtimeDir, { 'linux-arm64': kit.fakeNode('linux-arm64') }),
    controlCenterRange: '*',
    version,
  });
}

/** Where a system-wide install of a test host lives: everything under one base directory of the test's own. */
export interface HostTree {
  base: string;
  root: string;
  configDir: string;
  stateDir: string;
  logDir: string;
  /** The `install:` values that put it there. */
  values: Record<string, string>;
}

export function hostTree(base: string): HostTree {
  const tree = {
    base,
    root: path.join(base, 'opt'),
    configDir: path.join(base, 'etc'),
    stateDir: path.join(base, 'state'),
    logDir: path.join(base, 'log'),
  };
  return { ...tree, values: { root_dir: tree.root, config_dir: tree.configDir, state_dir: tree.stateDir, log_dir: tree.logDir } };
}

/** The pid in the runtime's lock file, or null without one. */
export function daemonPid(stateDir: string): number | null {
  try {
    return (JSON.parse(fs.readFileSync(path.join(stateDir, 'sutazai-runtime.lock'), 'utf8')) as { pid: number }).pid;
  } catch {
    return null;
  }
}

/** The command line of a live process, '' when it is gone. */
export function commandLine(pid: number | null): string {
  if (pid === null) return '';
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/**
 * Every entry under `dir` (relative path, type, mode, owner, a link's target, a file's
 * size), sorted: two snapshots are equal when the tree is as it was. Paths in `skip` (and
 * what is under them) are left out.
 */
export function snapshotTree(dir: string, skip: readonly string[] = []): string[] {
  const out: string[] = [];
  const walk = (at: string) => {
    for (const name of fs.readdirSync(at).sort()) {
      const full = path.join(at, name);
      if (skip.some((s) => full === s || full.startsWith(`${s}/`))) continue;
      const stat = fs.lstatSync(full);
      const rel = path.relative(dir, full);
      const kind = stat.isSymbolicLink() ? `link -> ${fs.readlinkSync(full)}` : stat.isDirectory() ? 'dir' : `file ${stat.size}`;
      out.push(`${rel} ${kind} ${(stat.mode & 0o7777).toString(8)} ${stat.uid}:${stat.gid}`);
      if (stat.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return out;
}

/** Pids of live processes whose command line or working directory lies under one of `roots`. */
export function processesUnder(roots: readonly string[]): Array<{ pid: number; command: string }> {
  const found: Array<{ pid: number; command: string }> = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const command = commandLine(pid);
    let cwd = '';
    try {
      cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      // gone, or not ours to read
    }
    if (roots.some((root) => command.includes(`${root}/`) || cwd === root || cwd.startsWith(`${root}/`))) found.push({ pid, command });
  }
  return found;
}

/** A process that runs (a zombie waiting for its parent to reap it does not). */
export function isLive(pid: number | null): boolean {
  if (pid === null) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}
