import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cgroup2Root, cgroupPath, killCgroupSync, removeCgroupTreeSync } from './cgroups';
import { logTail, spawnDaemon, type Daemon } from './daemon';
import { runCommand } from './run-command';
import { renderSshdConfig, SSHD } from './sshd';
import { waitForSshBanner } from './wait-for-server';

// A test host that systemd runs: /lib/systemd/systemd as PID 1 of its own pid, mount, UTS,
// IPC and cgroup namespaces, inside the host's network namespace, as a container manager
// would start it (https://systemd.io/CONTAINER_INTERFACE: `container=` set, /proc, /sys and
// a cgroup2 hierarchy mounted before it starts, /sys and /proc/sys read-only, /run a tmpfs).
// sshd runs as one of its units, so an SSH login lands in a system where `systemctl` talks
// to a real PID 1 and /run/systemd/system exists.
//
// The host shares this machine's root filesystem (binaries, /etc/passwd, /tmp) like the
// other test hosts. What systemd would otherwise change on the machine is kept private:
// - /etc/systemd/system is a bind mount of the host's own directory (unitDir): units the
//   tests install land there, and the machine's enabled services are not seen;
// - /dev is a tmpfs with the basic device nodes (journald's /dev/log link, /dev/console);
// - /run, /dev/shm are fresh tmpfs, /sys is this network namespace's sysfs, read-only;
// - every unit that would touch the machine (systemd-tmpfiles-setup would empty /tmp,
//   sysctl, binfmt, udev, sysusers, random-seed, the machine's timers...) is masked, and
//   generators are off (no fstab or SysV units);
// - it boots szt-host.target (basic.target and sshd), never multi-user.target.
// Its cgroup is <cgroup2 root>/<namespace>: killing that tree ends the host (teardown and
// the sweeper find it by name, see cgroups.ts).

export const UNSHARE = '/usr/bin/unshare';
export const NSENTER = '/usr/bin/nsenter';
const SYSTEMD_BINARIES = ['/lib/systemd/systemd', '/usr/lib/systemd/systemd'];

export const HOST_TARGET = 'szt-host.target';
export const SSHD_UNIT = 'szt-sshd.service';

/**
 * Units masked on a systemd test host: each would change the machine it shares its files
 * with, or needs hardware it does not have. Those absent on a system are masked all the same.
 */
export const MASKED_UNITS: readonly string[] = [
  'systemd-tmpfiles-setup.service',
  'systemd-tmpfiles-setup-dev.service',
  'systemd-tmpfiles-clean.service',
  'systemd-tmpfiles-clean.timer',
  'systemd-sysusers.service',
  'systemd-firstboot.service',
  'systemd-machine-id-commit.service',
  'systemd-random-seed.service',
  'systemd-journal-flush.service',
  'systemd-journal-catalog-update.service',
  'systemd-update-done.service',
  'systemd-update-utmp.service',
  'systemd-update-utmp-runlevel.service',
  'systemd-udevd.service',
  'systemd-udev-trigger.service',
  'systemd-udevd-control.socket',
  'systemd-udevd-kernel.socket',
  'systemd-hwdb-update.service',
  'systemd-modules-load.service',
  'systemd-sysctl.service',
  'systemd-binfmt.service',
  'systemd-repart.service',
  'systemd-pcrphase.service',
  'systemd-pcrphase-sysinit.service',
  'systemd-remount-fs.service',
  'systemd-pstore.service',
  'systemd-timesyncd.service',
  'systemd-boot-update.service',
  'systemd-ask-password-console.path',
  'systemd-ask-password-wall.path',
  'systemd-initctl.socket',
  'systemd-logind.service',
  'kmod-static-nodes.service',
  'ldconfig.service',
  'proc-sys-fs-binfmt_misc.automount',
  'sys-kernel-config.mount',
  'sys-kernel-debug.mount',
  'sys-kernel-tracing.mount',
  'sys-fs-fuse-connections.mount',
  'dev-hugepages.mount',
  'dev-mqueue.mount',
  'dbus.socket',
  'dbus.service',
  'getty.target',
  'console-getty.service',
  'apt-daily.timer',
  'apt-daily-upgrade.timer',
  'dpkg-db-backup.timer',
  'e2scrub_all.timer',
  'fstrim.timer',
  'man-db.timer',
  'logrotate.timer',
];

export type SystemdSupport = { ok: true; systemd: string } | { ok: false; reason: string };

/**
 * Whether this machine can run a systemd test host, and if not, why (checked, not assumed):
 * Linux, root, systemd and util-linux's unshare and nsenter installed, cgroup namespaces in
 * the kernel, and a cgroup2 hierarchy in which root can make a cgroup.
 */
export function systemdHostSupport(): SystemdSupport {
  if (process.platform !== 'linux') return { ok: false, reason: `systemd test hosts need Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: `systemd test hosts need root (running as uid ${process.getuid?.()})` };
  const systemd = SYSTEMD_BINARIES.find(isExecutable);
  if (systemd === undefined)
    return { ok: false, reason: `systemd is not installed (none of ${SYSTEMD_BINARIES.join(', ')}); as root: apt-get install -y systemd` };
  for (const tool of [UNSHARE, NSENTER])
    if (!isExecutable(tool)) return { ok: false, reason: `${tool} is missing; as root: apt-get install -y util-linux` };
  if (!fs.existsSync('/proc/self/ns/cgroup'))
    return { ok: false, reason: 'the kernel has no cgroup namespaces (/proc/self/ns/cgroup), which systemd in a container needs' };
  const root = cgroup2Root();
  if (root === null)
    return { ok: false, reason: 'no cgroup2 hierarchy is mounted (cgroup v1 only), and systemd in a test host runs on cgroup2' };
  const probe = path.join(root, `szt-probe-${process.pid}`);
  try {
    fs.mkdirSync(probe);
    fs.rmdirSync(probe);
  } catch (error) {
    return { ok: false, reason: `cannot make a cgroup in ${root}: ${(error as Error).message}` };
  }
  return { ok: true, systemd };
}

export interface SystemdHostSpec {
  namespace: string;
  address: string;
  port: number;
  /** The host's own directory (units, init script, sshd config, logs). */
  dir: string;
  hostKeyPath: string;
  authorizedKeysDir: string;
}

export interface SystemdDaemon extends Daemon {
  /** systemd, PID 1 of the host, as this machine's pid namespace numbers it. */
  pid1: number;
  /** The host's cgroup tree, in this machine's cgroup2 hierarchy. */
  cgroup: string;
}

/** Where the host's /etc/systemd/system lives on this machine. */
export function unitDirOf(dir: string): string {
  return path.join(dir, 'systemd-system');
}

/** argv that runs a command as root inside the host: all of PID 1's namespaces. */
export function enterHost(pid1: number): string[] {
  return [NSENTER, '-t', String(pid1), '-a', '--'];
}

const BOOT_TIMEOUT_MS = 30_000;

/** Boots the host: returns once systemd reports the system running and sshd sends its banner. */
export async function startSystemdHost(spec: SystemdHostSpec): Promise<SystemdDaemon> {
  const support = systemdHostSupport();
  if (!support.ok) throw new Error(`systemd test host: ${support.reason}`);
  const unitDir = unitDirOf(spec.dir);
  const noGenerators = path.join(spec.dir, 'no-generators');
  const sshdConfig = path.join(spec.dir, 'sshd_config');
  const sshdLog = path.join(spec.dir, 'sshd.log');
  const init = path.join(spec.dir, 'init.sh');
  if (!fs.existsSync(unitDir)) writeUnits(unitDir, sshdConfig, sshdLog);
  fs.mkdirSync(noGenerators, { recursive: true });
  fs.writeFileSync(sshdConfig, renderSshdConfig(spec), { mode: 0o600 });
  fs.writeFileSync(init, renderInit({ systemd: support.systemd, unitDir, noGenerators, hostname: spec.namespace }), { mode: 0o700 });

  const cgroup = cgroupPath(spec.namespace);
  stopSystemdHostSync(cgroup);
  fs.mkdirSync(cgroup);
  const logFile = path.join(spec.dir, 'systemd.log');
  const daemon = spawnInCgroup(
    cgroup,
    [
      NSENTER,
      `--net=/run/netns/${spec.namespace}`,
      UNSHARE,
      '--pid',
      '--fork',
      '--mount',
      '--uts',
      '--ipc',
      '--cgroup',
      '--mount-proc',
      '--propagation',
      'private',
      '/bin/sh',
      init,
    ],
    logFile,
  );
  try {
    const pid1 = await waitForPid1(daemon);
    await waitForBoot(pid1, daemon);
    await waitForSshBanner(spec.address, spec.port, daemon, { timeoutMs: BOOT_TIMEOUT_MS });
    return { ...daemon, pid1, cgroup };
  } catch (error) {
    stopSystemdHostSync(cgroup);
    throw error;
  }
}

/** Ends the host (SIGKILL to its whole cgroup tree, PID 1 with it) and removes the tree. Bounded; a missing tree is fine. */
export function stopSystemdHostSync(cgroup: string): void {
  const left = killCgroupSync(cgroup);
  if (left.length > 0) throw new Error(`systemd test host ${path.basename(cgroup)}: still alive after SIGKILL: ${left.join(', ')}`);
  removeCgroupTreeSync(cgroup);
}

function writeUnits(unitDir: string, sshdConfig: string, sshdLog: string): void {
  fs.mkdirSync(unitDir, { mode: 0o755 });
  // As on an installed system, where sshd is enabled: a unit enabled or disabled by a test
  // adds or removes its link here, next to sshd's (this target is never started).
  fs.mkdirSync(path.join(unitDir, 'multi-user.target.wants'), { mode: 0o755 });
  fs.symlinkSync(`/etc/systemd/system/${SSHD_UNIT}`, path.join(unitDir, 'multi-user.target.wants', SSHD_UNIT));
  for (const unit of MASKED_UNITS) fs.symlinkSync('/dev/null', path.join(unitDir, unit));
  fs.writeFileSync(
    path.join(unitDir, HOST_TARGET),
    [
      '# SutazAI test-host harness: what the host boots instead of multi-user.target.',
      '[Unit]',
      'Description=SutazAI test host',
      'Requires=basic.target',
      'After=basic.target',
      `Wants=${SSHD_UNIT}`,
      'AllowIsolate=yes',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  fs.writeFileSync(
    path.join(unitDir, SSHD_UNIT),
    [
      "# SutazAI test-host harness: the host's OpenSSH server, configured by sshd.ts.",
      '[Unit]',
      'Description=OpenSSH server of the SutazAI test host',
      '[Service]',
      `ExecStart=${SSHD} -D -e -f ${sshdConfig}`,
      `StandardOutput=append:${sshdLog}`,
      'StandardError=inherit',
      // As Debian's ssh.service: restarting sshd leaves the sessions alone.
      'KillMode=process',
      'Restart=on-failure',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
}

/** PID 1 of the host until it execs systemd: its own mounts, then systemd in place. */
function renderInit(input: { systemd: string; unitDir: string; noGenerators: string; hostname: string }): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return `#!/bin/sh
# SutazAI test-host harness (systemd-host.ts): PID 1 of a systemd test host, before systemd.
set -eu
mount --make-rprivate /
# Other namespaces' handles: holding them here would keep \`ip netns del\` from removing them.
umount -l /run/netns 2>/dev/null || :
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs /sys
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup
mount --bind /proc/sys /proc/sys
mount -o remount,bind,ro /proc/sys
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mkdir -p /run/sshd /run/lock /run/szt-dev
mount -t tmpfs -o mode=0755,nosuid tmpfs /run/szt-dev
for n in null zero full random urandom tty; do
  touch /run/szt-dev/$n
  mount --bind /dev/$n /run/szt-dev/$n
done
touch /run/szt-dev/console
mount --bind /dev/null /run/szt-dev/console
mkdir /run/szt-dev/pts /run/szt-dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /run/szt-dev/pts
ln -s pts/ptmx /run/szt-dev/ptmx
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /run/szt-dev/shm
ln -s /proc/self/fd /run/szt-dev/fd
ln -s /proc/self/fd/0 /run/szt-dev/stdin
ln -s /proc/self/fd/1 /run/szt-dev/stdout
ln -s /proc/self/fd/2 /run/szt-dev/stderr
mount --move /run/szt-dev /dev
rmdir /run/szt-dev
mount --bind ${q(input.unitDir)} /etc/systemd/system
hostname ${q(input.hostname)}
exec env -i container=sutazai-test-host PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \\
  SYSTEMD_GENERATOR_PATH=${q(input.noGenerators)} SYSTEMD_ENVIRONMENT_GENERATOR_PATH=${q(input.noGenerators)} \\
  ${q(input.systemd)} --system --unit=${HOST_TARGET} --log-target=console --log-level=notice --show-status=no
`;
}

/** Like daemon.ts's startDaemon, but the process first moves itself into `cgroup`. */
function spawnInCgroup(cgroup: string, argv: readonly string[], logFile: string): Daemon {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return spawnDaemon('/bin/sh', ['-c', `echo $$ > ${q(path.join(cgroup, 'cgroup.procs'))} && exec ${argv.map(q).join(' ')}`], logFile);
}

async function waitForPid1(daemon: Daemon): Promise<number> {
  const deadline = Date.now() + BOOT_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (daemon.hasExited())
      throw new Error(`systemd test host: exited before systemd started (${await daemon.exited}): ${logTail(daemon.logFile)}`);
    // unshare --fork: its one child is PID 1 of the new pid namespace (the init script, then systemd).
    const child = readFirstChild(daemon.pid);
    if (child !== undefined && readComm(child) === 'systemd') return child;
    await sleep(20);
  }
  throw new Error(`systemd test host: systemd did not start within ${BOOT_TIMEOUT_MS} ms: ${logTail(daemon.logFile)}`);
}

async function waitForBoot(pid1: number, daemon: Daemon): Promise<void> {
  const deadline = Date.now() + BOOT_TIMEOUT_MS;
  let state = '';
  while (Date.now() < deadline) {
    if (daemon.hasExited())
      throw new Error(`systemd test host: systemd exited while booting (${await daemon.exited}): ${logTail(daemon.logFile)}`);
    // Fails until systemd listens on its private socket; then waits for the boot to finish.
    const result = await runCommand([...enterHost(pid1), 'systemctl', 'is-system-running', '--wait'], {
      okCodes: 'any',
      timeoutMs: Math.max(1_000, deadline - Date.now()),
    }).catch((error: Error) => ({ code: -1, stdout: '', stderr: error.message }));
    state = (result.stdout.trim().split('\n').pop() ?? '') || result.stderr.trim();
    if (state === 'running') return;
    if (state === 'degraded') {
      const failed = await runCommand([...enterHost(pid1), 'systemctl', '--failed', '--no-pager', '--no-legend'], { okCodes: 'any' });
      throw new Error(`systemd test host: booted degraded, failed units: ${failed.stdout.trim()}`);
    }
    await sleep(50);
  }
  throw new Error(`systemd test host: not running within ${BOOT_TIMEOUT_MS} ms (last state: ${state}): ${logTail(daemon.logFile)}`);
}

function readFirstChild(pid: number): number | undefined {
  try {
    const first = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

function readComm(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
