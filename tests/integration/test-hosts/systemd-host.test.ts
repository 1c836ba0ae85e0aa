// The systemd test host proves itself: systemd is PID 1 there and the system is running, an
// SSH login lands in it, what systemd would change on the machine it shares its files with
// stays private (the machine's /dev, /tmp and /etc/systemd/system are untouched), and
// nothing of it survives its lab, however the lab ends.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupPath, pidsInCgroup } from '../../support/test-hosts/cgroups';
import { isProcessAlive } from '../../support/test-hosts/kill-processes';
import { MASKED_UNITS, systemdHostSupport } from '../../support/test-hosts/systemd-host';
import { sweepLeftovers } from '../../support/test-hosts/teardown';
import { createTestLab, type SystemdHost, type TestLab } from '../../support/test-hosts/test-hosts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const childScript = path.join(repoRoot, 'tests/support/test-hosts/systemd-lab-child-process.ts');
const support = systemdHostSupport();

/** Logs in as root with the host's key and runs `command`; resolves with its stdout. */
function sshRun(host: SystemdHost, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.on('error', reject);
    client.on('ready', () => {
      client.exec(command, (error, channel) => {
        if (error) return reject(error);
        let out = '';
        channel.on('data', (chunk: Buffer) => (out += chunk.toString()));
        channel.stderr.resume();
        channel.on('close', () => {
          client.end();
          resolve(out.trim());
        });
      });
    });
    client.connect({ host: host.address, port: host.port, username: 'root', privateKey: host.privateKey, readyTimeout: 10_000 });
  });
}

describe.skipIf(!support.ok)(`systemd test host${support.ok ? '' : ` (skipped: ${support.reason})`}`, () => {
  let lab: TestLab;
  let host: SystemdHost;
  let devBefore: string[];
  let canary: string;

  beforeAll(async () => {
    lab = await createTestLab();
    devBefore = fs.readdirSync('/dev').sort();
    // systemd-tmpfiles-setup would empty /tmp (Debian's tmp.conf: D /tmp): it is masked.
    canary = path.join(lab.dir, 'canary');
    fs.writeFileSync(canary, 'still here\n');
    host = await lab.addSystemdHost();
  }, 60_000);

  afterAll(async () => {
    await lab?.destroy();
  });

  it('runs systemd as PID 1, booted and running, in a container of its own', async () => {
    expect(
      (
        await lab.exec(
          host,
          'cat /proc/1/comm; systemctl is-system-running; systemd-detect-virt --container; [ -d /run/systemd/system ] && echo booted',
        )
      ).stdout
        .trim()
        .split('\n'),
    ).toEqual(['systemd', 'running', 'container-other', 'booted']);
    // The host's cgroup tree is its own, under this machine's cgroup2 hierarchy.
    expect(fs.existsSync(path.join(cgroupPath(host.namespace), 'init.scope'))).toBe(true);
  });

  it('an SSH login as root lands in it, under its sshd unit, and talks to its systemd', async () => {
    expect((await sshRun(host, 'cat /proc/1/comm; systemctl is-active szt-sshd.service; grep ^0:: /proc/self/cgroup')).split('\n')).toEqual(
      ['systemd', 'active', '0::/system.slice/szt-sshd.service'],
    );
  });

  it("keeps what systemd changes private: /etc/systemd/system is the host's own, the units that would touch the machine are masked", async () => {
    fs.writeFileSync(path.join(host.unitDir, 'szt-selftest.service'), '[Service]\nType=oneshot\nExecStart=/bin/true\n');
    expect((await lab.exec(host, 'systemctl daemon-reload && systemctl start szt-selftest.service && echo started')).stdout.trim()).toBe(
      'started',
    );
    expect(fs.existsSync('/etc/systemd/system/szt-selftest.service')).toBe(false);
    fs.rmSync(path.join(host.unitDir, 'szt-selftest.service'));
    const masked = (await lab.exec(host, `systemctl is-enabled ${MASKED_UNITS.join(' ')} 2>&1`)).stdout.trim().split('\n');
    expect(new Set(masked.filter((m) => !m.includes('No such file')))).toEqual(new Set(['masked']));
    expect(fs.readFileSync(canary, 'utf8')).toBe('still here\n');
    // journald's /dev/log and the rest of /dev live in the host's own /dev.
    expect((await lab.exec(host, 'test -S /dev/log -o -L /dev/log && echo log')).stdout.trim()).toBe('log');
    expect(fs.readdirSync('/dev').sort()).toEqual(devBefore);
  });

  it('stopHost ends it; startHost boots it again', async () => {
    const cgroup = cgroupPath(host.namespace);
    const pids = pidsInCgroup(cgroup);
    await lab.stopHost(host);
    expect(fs.existsSync(cgroup)).toBe(false);
    expect(pids.filter(isProcessAlive)).toEqual([]);
    await lab.startHost(host);
    expect((await sshRun(host, 'systemctl is-system-running')).trim()).toBe('running');
  });

  it('destroy ends it and removes its cgroup tree', async () => {
    const cgroup = cgroupPath(host.namespace);
    const pids = pidsInCgroup(cgroup);
    expect(pids.length).toBeGreaterThan(2);
    await lab.destroy();
    expect(fs.existsSync(cgroup)).toBe(false);
    expect(pids.filter(isProcessAlive)).toEqual([]);
    expect(fs.existsSync(`/run/netns/${host.namespace}`)).toBe(false);
  });
});

describe.skipIf(!support.ok)('systemd test host when its lab process dies', () => {
  it('SIGKILL: the next run sweeps it, systemd and all it runs included', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', childScript], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const info = await new Promise<{ runId: string; namespace: string }>((resolve, reject) => {
      let buffered = '';
      const timer = setTimeout(() => reject(new Error('the child lab did not report within 30 s')), 30_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        if (buffered.includes('\n')) {
          clearTimeout(timer);
          resolve(JSON.parse(buffered.split('\n')[0]!) as { runId: string; namespace: string });
        }
      });
      child.on('exit', (code) => reject(new Error(`the child lab exited early with ${code}`)));
    });
    const cgroup = cgroupPath(info.namespace);
    const pids = pidsInCgroup(cgroup);
    child.kill('SIGKILL');
    await exited;
    // Nothing could clean up: systemd outlives the lab's process.
    expect(pids.filter(isProcessAlive).length).toBeGreaterThan(2);

    expect(sweepLeftovers()).toContain(info.runId);
    expect(fs.existsSync(cgroup)).toBe(false);
    expect(pids.filter(isProcessAlive)).toEqual([]);
    expect(fs.existsSync(`/run/netns/${info.namespace}`)).toBe(false);
  }, 60_000);
});
