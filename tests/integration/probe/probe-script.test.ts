import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, type HostFacts } from '../../../electron/contract';
import { parseProbeOutput, readProbeRecords } from '../../../electron/backend/probe/parse-probe-output';
import { loadProbeScript, PROBE_BOOTSTRAP, probeCommand, probeStdin } from '../../../electron/backend/probe/probe-script';
import { makeTempDir } from '../../support/temp-dir';

/**
 * The real probe script, spawned exactly as the SSH exec channel runs it (the same
 * command line, the script on stdin), under each shell a target's /bin/sh may be.
 */

function which(bin: string): string | null {
  try {
    return execFileSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

const SHELLS = [
  { name: 'dash', argv: [which('dash')] },
  { name: 'bash', argv: [which('bash')] },
  { name: 'busybox sh', argv: [which('busybox'), 'sh'] },
].filter((s): s is { name: string; argv: string[] } => s.argv[0] !== null);

const isRoot = process.getuid?.() === 0;
const runuser = which('runuser');
const PROBE_LIMIT_MS = 20_000;

interface Run {
  stdout: string;
  stderr: string;
  code: number | null;
  ms: number;
}

/** Spawns the probe and kills its whole process group if it outlives `timeoutMs`. */
function runProbe(options: {
  shell: string[];
  args?: string[];
  installPath?: string;
  password?: string;
  env?: NodeJS.ProcessEnv;
  asUser?: string;
  timeoutMs?: number;
}): Promise<Run> {
  const command = probeCommand({
    ...(options.installPath ? { installPath: options.installPath } : {}),
    sudoPassword: options.password !== undefined,
  });
  const [, ...rest] = command.argv;
  const tail = options.args ? ['-c', PROBE_BOOTSTRAP, ...options.args] : rest;
  const argv = [...(options.asUser ? [runuser!, '-u', options.asUser, '--'] : []), ...options.shell, ...tail];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: '/',
      env: options.env ?? process.env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
      reject(new Error(`the probe did not finish within ${options.timeoutMs ?? PROBE_LIMIT_MS} ms; stderr: ${stderr}`));
    }, options.timeoutMs ?? PROBE_LIMIT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code, ms: performance.now() - started });
    });
    child.stdin.end(probeStdin(loadProbeScript(), options.password));
  });
}

/** The truth, read without the probe. */
const truth = {
  nproc: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()),
  memTotalBytes: Number(/^MemTotal:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024,
  osRelease: (key: string) => {
    const value = new RegExp(`^${key}=(.*)$`, 'm').exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '';
    return value.replace(/^"(.*)"$/, '$1');
  },
  kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
  machine: execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim(),
  hostname: execFileSync('uname', ['-n'], { encoding: 'utf8' }).trim(),
  machineId: fs.existsSync('/etc/machine-id') ? fs.readFileSync('/etc/machine-id', 'utf8').trim() : null,
  rootSizeBytes: Number(execFileSync('df', ['-P', '-k', '/'], { encoding: 'utf8' }).trim().split('\n')[1]!.trim().split(/\s+/)[1]) * 1024,
};

const timings: string[] = [];
const temps: Array<{ remove(): void }> = [];
afterAll(() => {
  for (const t of temps) t.remove();
  if (timings.length) console.log(`probe timings:\n  ${timings.join('\n  ')}`);
});

/** A PATH holding only the given tools, as symlinks. */
function pathWith(tools: string[]): string {
  const dir = makeTempDir('sutazai-probe-path-');
  temps.push(dir);
  for (const tool of tools) {
    const target = which(tool);
    if (!target) throw new Error(`the test machine lacks ${tool}`);
    fs.symlinkSync(target, path.join(dir.path, tool));
  }
  return dir.path;
}

/** The core tools the script cannot do without; everything else is optional. */
const CORE_TOOLS = ['awk', 'cat', 'uname', 'id', 'date', 'df'];

describe.each(SHELLS)('the probe script under $name', ({ name, argv }) => {
  let full: HostFacts | undefined;
  // A listener of the test's own that stays up through the runs, so the listening ports
  // compared below are never an empty set.
  let listener: net.Server;
  let listenerPort = 0;
  beforeAll(async () => {
    listener = net.createServer();
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    listenerPort = (listener.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => listener.close(() => resolve())));

  it('reports the machine as it is', async () => {
    const run = await runProbe({ shell: argv });
    timings.push(`${name}: ${run.ms.toFixed(0)} ms (all tools)`);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const facts = parseProbeOutput(run.stdout);
    full = facts;
    expect(facts.source).toBe('ssh');
    expect(facts.cpu!.threads).toBe(truth.nproc);
    expect(facts.memory!.totalBytes).toBe(truth.memTotalBytes);
    expect(facts.os.id).toBe(truth.osRelease('ID'));
    expect(facts.os.release).toBe(truth.osRelease('VERSION_ID'));
    expect(facts.os.kernel).toBe(truth.kernel);
    expect(facts.os.arch).toBe(process.arch); // uname -m in Node's words, as the local probe reports it
    expect(truth.machine).toBe(process.arch === 'x64' ? 'x86_64' : truth.machine);
    expect(facts.os.hostname).toBe(truth.hostname);
    expect(facts.machineId).toBe(truth.machineId);
    expect(facts.filesystems!.find((f) => f.mount === '/')!.sizeBytes).toBe(truth.rootSizeBytes);
    expect(facts.installPath).toMatchObject({ path: '/opt/sutazai', filesystemMount: expect.any(String) });
    expect(facts.clock!.epochMs).toBeGreaterThan(Date.now() - 60_000);
    expect(facts.clock!.epochMs).toBeLessThanOrEqual(Date.now());
    expect(facts.privilege!.level).toBe(isRoot ? 'root' : expect.any(String));
    expect(facts.network!.some((n) => n.addresses.some((a) => a.address === '127.0.0.1'))).toBe(true);
  });

  it('still succeeds without any optional tool, saying why each fact is unknown', async () => {
    const run = await runProbe({ shell: argv, env: { PATH: pathWith(CORE_TOOLS), HOME: '/' } });
    timings.push(`${name}: ${run.ms.toFixed(0)} ms (core tools only)`);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const reasons = new Map(
      readProbeRecords(run.stdout)
        .filter((r) => r.type === 'unknown')
        .map((r) => [r.fields[0], r.fields[1]]),
    );
    expect(reasons.get('disks.model')).toBe('lsblk not installed; disks read from /sys/block');
    expect(reasons.get('virtualization.tool')).toMatch(/^systemd-detect-virt not installed/);
    expect(reasons.get('network.addresses')).toBe('ip not installed; addresses read from /proc/net');
    expect(reasons.get('gpus.nvidia')).toBe('nvidia-smi not installed');
    expect(reasons.get('gpus.model')).toBe('lspci not installed; GPUs named by PCI id only');

    const facts = parseProbeOutput(run.stdout);
    expect(facts.unknown.map((u) => u.field)).toEqual(expect.arrayContaining(['disks.model', 'virtualization.tool', 'network.addresses']));
    // The fallbacks reach the same facts as the tools.
    expect(facts.cpu!.threads).toBe(truth.nproc);
    expect(facts.disks).toEqual(full!.disks);
    expect(facts.virtualization).toEqual(full!.virtualization);
    // Other test files open and close listeners on this machine while this one runs, so
    // compare what listened before and still listens after (one more run with every tool):
    // each of those the fallback must have read the same way.
    const after = parseProbeOutput((await runProbe({ shell: argv })).stdout);
    const key = (p: { address: string; port: number }) => `${p.address}:${p.port}`;
    const afterKeys = new Set((after.listeningPorts ?? []).map(key));
    const stable = (full!.listeningPorts ?? []).filter((p) => afterKeys.has(key(p)));
    expect(stable).toContainEqual({ address: '127.0.0.1', port: listenerPort });
    expect(facts.listeningPorts).toEqual(expect.arrayContaining(stable));
    const ipv4 = (f: HostFacts, nic: string) =>
      f
        .network!.find((n) => n.name === nic)
        ?.addresses.filter((a) => a.family === 'IPv4')
        .map((a) => a.address)
        .sort();
    const defaultNic = fs
      .readFileSync('/proc/net/route', 'utf8')
      .split('\n')
      .find((l) => l.split('\t')[1] === '00000000')
      ?.split('\t')[0];
    for (const nic of ['lo', ...(defaultNic ? [defaultNic] : [])]) expect(ipv4(facts, nic), nic).toEqual(ipv4(full!, nic));
  });

  it('fails with the reason when a core tool is missing', async () => {
    const run = await runProbe({ shell: argv, env: { PATH: pathWith(CORE_TOOLS.filter((t) => t !== 'awk')), HOME: '/' } });
    expect(run.code).toBe(3);
    let caught: unknown;
    try {
      parseProbeOutput(run.stdout);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ApiError);
    expect((caught as ApiError).code).toBe('PROBE_FAILED');
    expect((caught as ApiError).message).toMatch(/awk not found in PATH/);
  });

  it('escapes tabs, newlines and backslashes in values, and the facts show control characters escaped', async () => {
    const dir = makeTempDir('sutazai-probe-esc-');
    temps.push(dir);
    const odd = `${dir.path}/we\tird\\path\nwith lines\r/sub\x1b]52;c;eA==\x07\u202e`;
    const run = await runProbe({ shell: argv, args: ['sutazai-probe', odd] });
    expect(run.code, run.stderr).toBe(0);
    expect(readProbeRecords(run.stdout).find((r) => r.type === 'install')!.fields[0]).toBe(odd);
    const facts = parseProbeOutput(run.stdout);
    expect(facts.installPath!.path).toBe(`${dir.path}/we\\x09ird\\path\\x0awith lines\\x0d/sub\\x1b]52;c;eA==\\x07\\u202e`);
    expect(facts.installPath!.existingPath).toBe(dir.path);
    expect(facts.installPath!.writable).toBe(true);
  });

  it.runIf(isRoot && runuser !== null)('detects privilege as an unprivileged user without waiting for a terminal', async () => {
    const nobodyUid = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
    const run = await runProbe({ shell: argv, asUser: 'nobody', timeoutMs: 15_000 });
    timings.push(`${name}: ${run.ms.toFixed(0)} ms (as nobody)`);
    expect(run.code, run.stderr).toBe(0);
    const facts = parseProbeOutput(run.stdout);
    expect(facts.privilege).toMatchObject({ uid: nobodyUid, user: 'nobody', sudoPasswordVerified: null });
    // `sudo -n true` says "a password is required" to nobody as to everyone; nobody has no
    // sudo rule at all, which `sudo -n -v` says without a password.
    expect(facts.privilege!.level).toBe('none');
    expect(facts.unknown.some((u) => u.field === 'privilege')).toBe(false);
    expect(facts.installPath!.writable).toBe(false);
  });

  it.runIf(isRoot && runuser !== null)('checks a sudo password sent on stdin and never shows it', async () => {
    const secret = 'not-the-password \\ 7f3a';
    const run = await runProbe({ shell: argv, asUser: 'nobody', password: secret, timeoutMs: 15_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toContain('not-the-password');
    expect(run.stderr).not.toContain('not-the-password');
    const facts = parseProbeOutput(run.stdout);
    // nobody may not use sudo at all, which sudo says once it has a password to check.
    expect(facts.privilege).toMatchObject({ level: 'none', sudoPasswordVerified: null });
    expect(facts.unknown.some((u) => u.field === 'privilege')).toBe(false);
  });
});

/** A PATH of the core tools plus fake ones (name → sh script body), readable by nobody. */
function pathWithFakes(fakes: Record<string, string>, tools = CORE_TOOLS): string {
  const dir = pathWith(tools);
  fs.chmodSync(dir, 0o755);
  for (const [name, body] of Object.entries(fakes)) {
    fs.writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  }
  return dir;
}

const FAKE_NVIDIA_SMI = `case "$1" in
--query-gpu=*)
  echo '0, NVIDIA H100 80GB HBM3, 81559, 550.54.15, 00000000:18:00.0'
  echo '1, NVIDIA H100 80GB HBM3, 81559, 550.54.15, 00000000:2A:00.0' ;;
*)
  echo 'Thu Jan  1 00:00:00 2026'
  echo '+-----------------------------------------------------------------------------------------+'
  echo '| NVIDIA-SMI 550.54.15              Driver Version: 550.54.15      CUDA Version: 12.4     |' ;;
esac`;
const FAKE_LSPCI = `[ "$*" = "-mm -nn -D" ] || exit 1
echo '0000:00:00.0 "Host bridge [0600]" "Intel Corporation [8086]" "440FX - 82441FX PMC [Natoma] [1237]" -r02 "Red Hat, Inc. [1af4]" "Qemu virtual machine [1100]"'
echo '0000:03:00.0 "VGA compatible controller [0300]" "ASPEED Technology, Inc. [1a03]" "ASPEED Graphics Family [2000]" -r52 "Supermicro Computer Inc [15d9]" "Device [1c48]"'
echo '0000:18:00.0 "3D controller [0302]" "NVIDIA Corporation [10de]" "GH100 [H100 SXM5 80GB] [2330]" -ra1 "NVIDIA Corporation [10de]" "Device [16c1]"'`;

describe.each(SHELLS)('the probe script with GPU tools under $name', ({ argv }) => {
  it('reads nvidia-smi (memory, driver, CUDA) and only the display controllers from lspci', async () => {
    // tr as well: without systemd-detect-virt the probe tries PID 1's environment with it.
    const env = { PATH: pathWithFakes({ 'nvidia-smi': FAKE_NVIDIA_SMI, lspci: FAKE_LSPCI }, [...CORE_TOOLS, 'tr']), HOME: '/' };
    const run = await runProbe({ shell: argv, env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const records = readProbeRecords(run.stdout);
    expect(records.filter((r) => r.type === 'lspci').map((r) => r.fields[0]!.slice(0, 12))).toEqual(['0000:03:00.0', '0000:18:00.0']);
    const facts = parseProbeOutput(run.stdout);
    expect(facts.gpus!.filter((g) => g.kind === 'nvidia')).toEqual([
      {
        vendor: 'NVIDIA Corporation',
        model: 'NVIDIA H100 80GB HBM3',
        memoryBytes: 81559 * 1024 * 1024,
        driverVersion: '550.54.15',
        bus: '0000:18:00.0',
        kind: 'nvidia',
        cudaVersion: '12.4',
      },
      {
        vendor: 'NVIDIA Corporation',
        model: 'NVIDIA H100 80GB HBM3',
        memoryBytes: 81559 * 1024 * 1024,
        driverVersion: '550.54.15',
        bus: '0000:2a:00.0',
        kind: 'nvidia',
        cudaVersion: '12.4',
      },
    ]);
    expect(facts.unknown.map((u) => u.field)).not.toContain('gpus.nvidia');
  });

  it('gives the reason when nvidia-smi fails instead of failing the probe', async () => {
    const failing = 'echo "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver."; exit 9';
    const run = await runProbe({ shell: argv, env: { PATH: pathWithFakes({ 'nvidia-smi': failing }), HOME: '/' } });
    expect(run.code, run.stderr).toBe(0);
    const reason = readProbeRecords(run.stdout).find((r) => r.type === 'unknown' && r.fields[0] === 'gpus.nvidia')?.fields[1];
    expect(reason).toBe("nvidia-smi failed (exit status 9): NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.");
  });
});

describe.runIf(isRoot && runuser !== null && SHELLS.length > 0)('privilege through a fake sudo, as nobody', () => {
  const shell = SHELLS[0]!.argv;
  const asNobody = async (sudo: string, timeoutMs = 15_000) => {
    const run = await runProbe({
      shell,
      asUser: 'nobody',
      env: { PATH: pathWithFakes({ sudo }, [...CORE_TOOLS, 'timeout']), HOME: '/' },
      timeoutMs,
    });
    expect(run.code, run.stderr).toBe(0);
    return { run, facts: parseProbeOutput(run.stdout) };
  };

  // sudo's words before it has a password: "a password is required" to everyone for a
  // command, and for -v (which asks the policy first) only to a login that has a rule.
  const sudoSaying = (verify: string) => `case "$*" in
"-n -v") echo "${verify}" >&2; exit 1 ;;
*) echo "sudo: a password is required" >&2; exit 1 ;;
esac`;

  it('is sudo-password when sudo -n -v asks for a password: the login has a sudo rule', async () => {
    expect((await asNobody(sudoSaying('sudo: a password is required'))).facts.privilege).toMatchObject({
      level: 'sudo-password',
      sudoPasswordVerified: null,
    });
  });

  it('is none when sudo -n -v says the login may not run sudo, whatever sudo -n true said', async () => {
    const { facts } = await asNobody(sudoSaying('Sorry, user nobody may not run sudo on lab.'));
    expect(facts.privilege).toMatchObject({ level: 'none', sudoPasswordVerified: null });
  });

  it('is sudo-nopasswd when sudo -n true succeeds', async () => {
    expect((await asNobody('[ "$1" = -n ] && exit 0; exit 1')).facts.privilege!.level).toBe('sudo-nopasswd');
  });

  it('is unknown, quoting sudo, when sudo says something unexpected', async () => {
    const { facts } = await asNobody('echo "sudo: /etc/sudoers is world writable" >&2; exit 1');
    expect(facts.privilege!.level).toBe('unknown');
    expect(facts.unknown).toContainEqual({ field: 'privilege', reason: 'sudo -n -v said: sudo: /etc/sudoers is world writable' });
  });

  it('is unknown, with the reason, when sudo insists on a terminal', async () => {
    const { facts } = await asNobody('echo "sudo: sorry, you must have a tty to run sudo" >&2; exit 1');
    expect(facts.privilege!.level).toBe('unknown');
    expect(facts.unknown).toContainEqual({ field: 'privilege', reason: 'sudo insists on a terminal (Defaults requiretty)' });
  });

  it('does not hang on a sudo that never answers', async () => {
    const { run, facts } = await asNobody(`exec ${which('sleep')} 300`, 40_000);
    expect(run.ms).toBeGreaterThan(9_500); // sudo -n true ran into its 10 s limit, and nothing waited longer
    expect(run.ms).toBeLessThan(40_000); // the probe ended itself, before the harness's kill
    timings.push(`${SHELLS[0]!.name}: ${run.ms.toFixed(0)} ms (as nobody, sudo hanging, cut by timeout)`);
    expect(facts.privilege!.level).toBe('unknown');
    expect(facts.unknown).toContainEqual({ field: 'privilege', reason: 'sudo gave no answer within 10 s' });
  }, 45_000);
});

describe('the probe command', () => {
  it('is one plain command any login shell reads the same, with the password only on stdin', () => {
    const { command, argv } = probeCommand({ installPath: '/srv/sutazai', sudoPassword: true });
    expect(command).toBe(`sh -c '${PROBE_BOOTSTRAP}' 'sutazai-probe' '/srv/sutazai' '--sudo-stdin'`);
    expect(argv).toEqual(['sh', '-c', PROBE_BOOTSTRAP, 'sutazai-probe', '/srv/sutazai', '--sudo-stdin']);
    expect(PROBE_BOOTSTRAP).not.toContain("'");
    expect(probeStdin('SCRIPT', 'pw')).toBe('pw\nSCRIPT');
    expect(() => probeStdin('SCRIPT', 'two\nlines')).toThrow(ApiError);
    expect(() => probeCommand({ installPath: "/opt/x'; rm -rf /" })).toThrow(ApiError);
    expect(() => probeCommand({ installPath: 'relative/path' })).toThrow(ApiError);
  });

  it('finds the script from the checkout', () => {
    expect(loadProbeScript()).toMatch(/^# SutazAI remote probe/);
    expect(loadProbeScript({ resourcesDir: path.join(os.tmpdir(), 'no-such-resources') })).toMatch(/^# SutazAI remote probe/);
  });
});
