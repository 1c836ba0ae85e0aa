// The read-only check script, run by a real POSIX shell against a real directory tree (no
// SSH: the script is the same text the host gets on stdin), and parsed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInstallConfig } from '../../../electron/backend/config/load-install-config';
import { daemonConfigPath, hostCheckScript, parseHostCheck } from '../../../electron/backend/install/host-check';
import { installLayout } from '../../../electron/backend/install/install-layout';
import { freePorts } from '../../support/free-ports';
import { makeTempDir } from '../../support/temp-dir';

const tmp = makeTempDir('sutazai-host-check-');
let fakeDaemon: ChildProcess | undefined;

const listeners: ChildProcess[] = [];

afterAll(() => {
  fakeDaemon?.kill('SIGKILL');
  for (const child of listeners) child.kill('SIGKILL');
  tmp.remove();
});

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
  const result = spawnSync(shell[0]!, [...shell.slice(1), '-c', script], { encoding: 'utf8' });
  expect(result.status).toBe(0);
  return { check: parseHostCheck(result.stdout), layout, release };
}

describe('the check of a host', () => {
  beforeAll(() => {
    fs.mkdirSync(path.join(tmp.path, 'fresh'));
  });

  it('finds nothing on a fresh host, and where the install would land and how much room is there', () => {
    const { check } = runCheck(path.join(tmp.path, 'fresh'));
    expect(check).toMatchObject({ home: process.env.HOME, uid: process.getuid!(), stagedBundle: null, partialSize: null, release: { present: false, marker: null }, configDigest: null, current: null, currentExists: false, daemon: null, unit: null });
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
    // A live process whose command line is a runtime daemon's, holding the lock in state_dir.
    fakeDaemon = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', release.daemon, 'run', '--config', release.runtimeConfig], { stdio: 'ignore' });
    // Until the child has exec'd, its command line is still this process's.
    const deadline = Date.now() + 5_000;
    while (!readCmdline(fakeDaemon.pid!).includes('sutazai-runtime') && Date.now() < deadline) spawnSync('sleep', ['0.02']);
    fs.mkdirSync(layout.stateDir, { recursive: true });
    fs.writeFileSync(path.join(layout.stateDir, 'sutazai-runtime.lock'), JSON.stringify({ pid: fakeDaemon.pid, startTime: '1' }));

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
    expect(check.daemon).toMatchObject({ pid: fakeDaemon.pid });
    expect(daemonConfigPath(check.daemon!.command)).toBe(release.runtimeConfig);
    expect(check.configDigest!.mtime).toBeGreaterThan(0);
  });

  it.skipIf(!fs.existsSync('/usr/bin/busybox'))('reads the same under BusyBox ash and its tools', () => {
    const dir = path.join(tmp.path, 'installed');
    const busy = runCheck(dir, ['/usr/bin/busybox', 'sh']).check;
    const ours = runCheck(dir).check;
    expect(busy).toEqual({ ...ours, configDigest: busy.configDigest, daemon: busy.daemon });
    expect(busy.daemon?.pid).toBe(fakeDaemon!.pid);
    expect(busy.configDigest?.value).toBe(ours.configDigest?.value);
  });

  it('names who listens on the ports the install needs: its own release\'s processes, or another process', async () => {
    const dir = path.join(tmp.path, 'ports');
    const { layout } = layoutUnder(dir);
    const runtimeDir = layout.release('0.1.0').runtimeDir;
    fs.mkdirSync(runtimeDir, { recursive: true });
    const base = await freePorts(3);
    // One listener runs from the install's release (as its core would), one from elsewhere; the third port is free.
    const listen = (port: number, cwd: string, address: string) =>
      spawn(process.execPath, ['-e', `require('net').createServer().listen(${port}, '${address}', () => console.log('up'))`], { cwd, stdio: ['ignore', 'pipe', 'ignore'] });
    const ours = listen(base, runtimeDir, '127.0.0.1');
    const foreign = listen(base + 1, tmp.path, '::');
    listeners.push(ours, foreign);
    await Promise.all([ours, foreign].map((child) => new Promise((resolve) => child.stdout!.once('data', resolve))));

    const { check } = runCheck(dir, ['sh'], [base, base + 1, base + 2]);
    expect(check.busyPorts.sort((a, b) => a.port - b.port)).toEqual([
      { port: base, pid: ours.pid, ours: true, command: expect.stringContaining('createServer') },
      { port: base + 1, pid: foreign.pid, ours: false, command: expect.stringContaining('createServer') },
    ]);
    expect(runCheck(path.join(tmp.path, 'fresh'), ['sh'], [base + 2]).check.busyPorts).toEqual([]);
  });

  it('tells a `current` that is not a link from one that is missing', () => {
    const dir = path.join(tmp.path, 'not-a-link');
    const { layout } = layoutUnder(dir);
    fs.mkdirSync(layout.current, { recursive: true });
    const { check } = runCheck(dir);
    expect(check).toMatchObject({ current: null, currentExists: true });
  });
});
