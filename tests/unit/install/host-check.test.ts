// The read-only check script, run by a real POSIX shell against a real directory tree (no
// SSH: the script is the same text the host gets on stdin), and parsed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInstallConfig } from '../../../electron/backend/config/load-install-config';
import { hostCheckScript, parseHostCheck } from '../../../electron/backend/install/plan/host-check';
import { installLayout } from '../../../electron/backend/install/definition/install-layout';
import { freePorts } from '../../support/free-ports';
import { makeTempDir } from '../../support/temp-dir';

const tmp = makeTempDir('sutazai-host-check-');
let fakeDaemon: ChildProcess | undefined;

const listeners: ChildProcess[] = [];

afterAll(() => {
  fakeDaemon?.kill('SIGKILL');
  for (const child of spawned) child.kill('SIGKILL');
  for (const child of listeners) child.kill('SIGKILL');
  tmp.remove();
});

/** `<boot id>:<start ticks>`, as the daemon writes its start time into the lock (daemon-lock.ts). */
function startTimeOf(pid: number): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return `${boot}:${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`;
}

function writeLock(stateDir: string, pid: number, startTime = startTimeOf(pid)): void {
  fs.writeFileSync(path.join(stateDir, 'sutazai-runtime.lock'), `${JSON.stringify({ pid, startTime })}\n`);
}

/** A release's Node binary (a hard link to this one), and a process that runs it with `args` once it has exec'd. */
function startDaemonLike(releaseDir: string, args: string[], options: { uid?: number; gid?: number; node?: string } = {}): ChildProcess {
  const node = nodeAt(options.node ?? path.join(releaseDir, 'node', 'linux-x64', 'node'));
  const child = spawn(node, args, { stdio: 'ignore', ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid! } : {}) });
  // Until the child has exec'd, its command line is still this process's.
  const deadline = Date.now() + 5_000;
  while (!readCmdline(child.pid!).includes('setInterval') && Date.now() < deadline) spawnSync('sleep', ['0.02']);
  spawned.push(child);
  return child;
}

const spawned: ChildProcess[] = [];

/** A Node binary at `node` (a hard link to this one, a copy across filesystems). */
function nodeAt(node: string): string {
  if (!fs.existsSync(node)) {
    fs.mkdirSync(path.dirname(node), { recursive: true });
    try {
      fs.linkSync(process.execPath, node);
    } catch {
      fs.copyFileSync(process.execPath, node);
      fs.chmodSync(node, 0o755);
    }
  }
  return node;
}

function readCmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

function layoutUnder(dir: string) {
  const text = `install: ${JSON.stringify({ root_dir: path.join(dir, 'opt'), config_dir: path.join(dir, 'etc'), state_dir: path.join(dir, 'state'), log_dir: path.join(dir, 'log') })}\n`;
  const config = loadInstallConfig({ install: [{ name: 'i.yaml', text }] }).config;
  return { config, layout: installLayout(config, 'system', '/root') };
}

function runCheck(dir: string, shell: string[] = ['sh'], ports: number[] = []) {
  const { layout } = layoutUnder(dir);
  const release = layout.release('0.1.0');
  const script = hostCheckScript({
    layout,
    release,
    stagedBundle: `${layout.staging}/sutazai-0.1.0.sutazai-bundle`,
    partialBundle: `${layout.staging}/sutazai-0.1.0.sutazai-bundle.partial`,
    startScript: `${layout.bin}/sutazai-runtime-start`,
    stopScript: `${layout.bin}/sutazai-runtime-stop`,
    ports,
  });
  const result = spawnSync(shell[0]!, [...shell.slice(1), '-c', script.text], { encoding: 'utf8' });
  expect(result.status).toBe(0);
  return { check: parseHostCheck(result.stdout), layout, release };
}

describe('the check of a host', () => {
  beforeAll(() => {
    fs.mkdirSync(path.join(tmp.path, 'fresh'));
  });

  it('finds nothing on a fresh host, and where the install would land and how much room is there', () => {
    const { check } = runCheck(path.join(tmp.path, 'fresh'));
    expect(check).toMatchObject({
      home: process.env.HOME,
      uid: process.getuid!(),
      stagedBundle: null,
      partialSize: null,
      release: { present: false, marker: null },
      configDigest: null,
      current: null,
      currentExists: false,
      daemon: null,
      unit: null,
    });
    expect(check.machine).toBe(spawnSync('uname', ['-m'], { encoding: 'utf8' }).stdout.trim());
    // root_dir does not exist: the space is that of the nearest directory that does.
    expect(check.spacePath).toBe(path.join(tmp.path, 'fresh'));
    expect(check.availableBytes).toBeGreaterThan(0);
  });

  it('sees the release, its marker, the configuration, current, the service files and the running daemon', () => {
    const dir = path.join(tmp.path, 'installed');
    const { layout } = layoutUnder(dir);
    const release = layout.release('0.1.0');
    fs.mkdirSync(release.tlsDir, { recursive: true });
    fs.writeFileSync(release.marker, `${'a'.repeat(64)}\n`);
    fs.writeFileSync(release.configDigest, `${'d'.repeat(64)}\n`);
    for (const file of [release.caCert, release.serverCert, release.serverKey]) fs.writeFileSync(file, 'pem');
    fs.mkdirSync(layout.staging, { recursive: true });
    fs.writeFileSync(`${layout.staging}/sutazai-0.1.0.sutazai-bundle.partial`, Buffer.alloc(12345));
    fs.symlinkSync('releases/0.1.0', layout.current);
    fs.mkdirSync(layout.configDir, { recursive: true });
    fs.symlinkSync(`${layout.current}/etc/runtime.yaml`, layout.configLink);
    fs.mkdirSync(layout.bin);
    fs.writeFileSync(`${layout.bin}/sutazai-runtime-start`, 'start');
    // The install's daemon: a process of this user running the release's own Node binary, named by the lock with its start time.
    fakeDaemon = startDaemonLike(release.dir, [
      '-e',
      'setInterval(() => {}, 1000)',
      release.daemon,
      'run',
      '--config',
      release.runtimeConfig,
    ]);
    fs.mkdirSync(layout.stateDir, { recursive: true });
    writeLock(layout.stateDir, fakeDaemon.pid!);

    const { check } = runCheck(dir);
    expect(check).toMatchObject({
      partialSize: 12345,
      stagedBundle: null,
      release: { present: true, marker: 'a'.repeat(64) },
      configDigest: { value: 'd'.repeat(64) },
      current: 'releases/0.1.0',
      currentExists: true,
      configLink: `${layout.current}/etc/runtime.yaml`,
      startScriptSha256: createHash('sha256').update('start').digest('hex'),
      stopScriptSha256: null,
    });
    expect([...check.tlsFiles].sort()).toEqual(['ca', 'cert', 'key']);
    expect([...check.dirs].sort()).toEqual(['bin', 'config', 'staging', 'state']);
    expect(check.daemon).toMatchObject({ pid: fakeDaemon.pid, release: '0.1.0' });
    expect(check.configDigest!.mtime).toBeGreaterThan(0);
  });

  it.skipIf(!fs.existsSync('/usr/bin/busybox'))('reads the same under BusyBox ash and its tools', () => {
    const dir = path.join(tmp.path, 'installed');
    const busy = runCheck(dir, ['/usr/bin/busybox', 'sh']).check;
    const ours = runCheck(dir).check;
    // The free space moves with whatever else writes to this disk meanwhile.
    expect(busy).toEqual({ ...ours, configDigest: busy.configDigest, daemon: busy.daemon, availableBytes: busy.availableBytes });
    expect(busy.availableBytes).toBeGreaterThan(0);
    expect(busy.daemon?.pid).toBe(fakeDaemon!.pid);
    expect(busy.configDigest?.value).toBe(ours.configDigest?.value);
  });

  describe('a lock whose pid now belongs to another process (pid reuse)', () => {
    const dir = () => path.join(tmp.path, 'reused');
    const marker = () => path.join(tmp.path, 'reused-marker');
    const crafted = () => [
      '-e',
      'setInterval(() => {}, 1000)',
      'sutazai-runtime',
      'run',
      '--config',
      `/tmp/x$(touch\${IFS}${marker()})/etc/runtime.yaml`,
    ];
    beforeAll(() => {
      const { layout } = layoutUnder(dir());
      fs.mkdirSync(layout.stateDir, { recursive: true });
      fs.mkdirSync(layout.release('0.1.0').dir, { recursive: true });
      // Another user must reach the release's binary, as on a real host (/opt is 0755).
      fs.chmodSync(tmp.path, 0o755);
    });

    it('is no daemon of the install when the process runs from elsewhere, whatever its command line says', () => {
      const { layout } = layoutUnder(dir());
      const other = startDaemonLike(layout.release('0.1.0').dir, crafted(), { node: path.join(tmp.path, 'elsewhere', 'node') });
      writeLock(layout.stateDir, other.pid!);
      expect(runCheck(dir()).check.daemon).toBeNull();
      expect(fs.existsSync(marker())).toBe(false);
    });

    it("is no daemon of the install when its start time is not the lock's, even running the release's own binary", () => {
      const { layout } = layoutUnder(dir());
      const other = startDaemonLike(layout.release('0.1.0').dir, crafted());
      writeLock(layout.stateDir, other.pid!, `${startTimeOf(other.pid!)}0`);
      expect(runCheck(dir()).check.daemon).toBeNull();
    });

    it.skipIf(process.getuid!() !== 0)(
      "is no daemon of the install when another user runs the release's own binary under the lock's pid and start time",
      () => {
        const { layout } = layoutUnder(dir());
        const other = startDaemonLike(layout.release('0.1.0').dir, crafted(), { uid: 65534, gid: 65534 });
        writeLock(layout.stateDir, other.pid!);
        expect(readCmdline(other.pid!)).toContain('sutazai-runtime');
        expect(runCheck(dir()).check.daemon).toBeNull();
        expect(fs.existsSync(marker())).toBe(false);
      },
    );
  });

  it("names who listens on the ports the install needs: its own release's processes, or another process", async () => {
    const dir = path.join(tmp.path, 'ports');
    const { layout } = layoutUnder(dir);
    const runtimeDir = layout.release('0.1.0').runtimeDir;
    fs.mkdirSync(runtimeDir, { recursive: true });
    const base = await freePorts(3);
    // One listener runs the install's release's Node (as its core would); one runs another
    // binary from the same directory, naming the release in its command line; the third port is free.
    const listen = (node: string, port: number, address: string) =>
      spawn(node, ['-e', `require('net').createServer().listen(${port}, '${address}', () => console.log('up'))`, runtimeDir], {
        cwd: runtimeDir,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    const ours = listen(nodeAt(path.join(layout.release('0.1.0').dir, 'node', 'linux-x64', 'node')), base, '127.0.0.1');
    const foreign = listen(process.execPath, base + 1, '::');
    listeners.push(ours, foreign);
    await Promise.all([ours, foreign].map((child) => new Promise((resolve) => child.stdout!.once('data', resolve))));

    const { check } = runCheck(dir, ['sh'], [base, base + 1, base + 2]);
    expect(check.busyPorts.sort((a, b) => a.port - b.port)).toEqual([
      { port: base, pid: ours.pid, ours: true, command: expect.stringContaining('createServer') },
      { port: base + 1, pid: foreign.pid, ours: false, command: expect.stringContaining('createServer') },
    ]);
    expect(runCheck(path.join(tmp.path, 'fresh'), ['sh'], [base + 2]).check.busyPorts).toEqual([]);
  });

  it("takes no fact from a listener's command line, whatever lines it holds", async () => {
    const dir = path.join(tmp.path, 'forged-lines');
    fs.mkdirSync(dir);
    const { layout } = layoutUnder(dir);
    const port = await freePorts(1);
    const forged = `x\nabsent\tconfig /\nabsent\tstate ${tmp.path}\ndaemon_pid\t1\nrelease_marker\tforged\ncurrent\treleases/forged`;
    const child = spawn(
      process.execPath,
      ['-e', `require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('up'))`, forged],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    listeners.push(child);
    await new Promise((resolve) => child.stdout!.once('data', resolve));
    const { check } = runCheck(dir, ['sh'], [port]);
    expect(check.busyPorts).toEqual([{ port, pid: child.pid, ours: false, command: expect.stringContaining('x absent config /') }]);
    expect(check.absent.get('config')).toBe(layout.configDir);
    expect(check.absent.get('state')).toBe(layout.stateDir);
    expect(check).toMatchObject({ daemon: null, release: { marker: null }, current: null });
  });

  it('tells a `current` that is not a link from one that is missing', () => {
    const dir = path.join(tmp.path, 'not-a-link');
    const { layout } = layoutUnder(dir);
    fs.mkdirSync(layout.current, { recursive: true });
    const { check } = runCheck(dir);
    expect(check).toMatchObject({ current: null, currentExists: true });
  });
});
