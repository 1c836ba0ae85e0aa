import fs from 'node:fs';
import path from 'node:path';

// The cgroup v2 trees of systemd test hosts (systemd-host.ts): one directory per host at
// the top of the machine's cgroup2 hierarchy, named like the host's network namespace so
// that teardown and the sweeper find it by run id. Killing the tree (cgroup.kill) takes the
// host's systemd, every unit it started and every SSH session with it.

/** Where cgroup2 is mounted (/sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a hybrid one); null without one. */
export function cgroup2Root(): string | null {
  let mountinfo: string;
  try {
    mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return null;
  }
  for (const line of mountinfo.split('\n')) {
    // "36 25 0:31 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw"
    const [before, after] = line.split(' - ');
    if (after === undefined || !after.startsWith('cgroup2 ')) continue;
    const fields = before!.split(' ');
    // Only a mount of the hierarchy's root: a bind of a sub-tree would nest the hosts wrongly.
    if (fields[3] === '/' && fields[4] !== undefined) return fields[4].replace(/\\040/g, ' ');
  }
  return null;
}

/** Names of the cgroups directly under the cgroup2 root. */
export function listTopCgroups(): string[] {
  const root = cgroup2Root();
  if (root === null) return [];
  try {
    return fs
      .readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return [];
  }
}

export function cgroupPath(name: string): string {
  const root = cgroup2Root();
  if (root === null) throw new Error('no cgroup2 hierarchy is mounted');
  return path.join(root, name);
}

/** Whether any process is left in the tree (cgroup.events `populated 1`). */
export function isPopulated(dir: string): boolean {
  try {
    return /^populated 1$/m.test(fs.readFileSync(path.join(dir, 'cgroup.events'), 'utf8'));
  } catch {
    return false;
  }
}

/** Every pid in the tree, depth first. */
export function pidsInCgroup(dir: string): number[] {
  const pids: number[] = [];
  const walk = (at: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(at, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(at, e.name));
    try {
      for (const pid of fs.readFileSync(path.join(at, 'cgroup.procs'), 'utf8').split('\n')) if (/^\d+$/.test(pid)) pids.push(Number(pid));
    } catch {
      // Removed meanwhile.
    }
  };
  walk(dir);
  return pids;
}

const EMPTY_WAIT_MS = 3_000;

/**
 * SIGKILLs every process in the tree (cgroup.kill where the kernel has it, 5.14+; else each
 * pid, PID 1 of a pid namespace taking the rest with it) and waits, bounded, until it is
 * empty. Returns the pids still there (normally none). A missing tree is fine.
 */
export function killCgroupSync(dir: string): number[] {
  if (!fs.existsSync(dir)) return [];
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; waited <= EMPTY_WAIT_MS; waited += 20) {
    if (!isPopulated(dir)) return [];
    try {
      fs.writeFileSync(path.join(dir, 'cgroup.kill'), '1');
    } catch {
      for (const pid of pidsInCgroup(dir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
    }
    Atomics.wait(cell, 0, 0, 20);
  }
  return isPopulated(dir) ? pidsInCgroup(dir) : [];
}

/** Removes an empty tree, children first. A missing tree is fine. */
export function removeCgroupTreeSync(dir: string): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) removeCgroupTreeSync(path.join(dir, e.name));
  fs.rmdirSync(dir);
}
