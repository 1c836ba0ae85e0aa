import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, utils, type ClientChannel, type ConnectConfig } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { isProcessAlive, pidsInNamespaces } from '../../support/test-hosts/kill-processes';
import { assertPrerequisites, REQUIRED_BINARIES, TestLabPrerequisiteError } from '../../support/test-hosts/prerequisites';
import { holdRun, passHold, releaseRun } from '../../support/test-hosts/run-registry';
import { sweepLeftovers } from '../../support/test-hosts/teardown';
import { createTestLab, type TestHost, type TestLab } from '../../support/test-hosts/test-hosts';

// The harness proves itself with a real SSH client (ssh2, as the product uses): every
// variant logs in and answers, host keys are the ones it claims, the hidden target is
// hidden, the slow host is slow, and nothing of a run survives its end, however it ends.

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const childScript = path.join(repoRoot, 'tests/support/test-hosts/lab-child-process.ts');

/** ssh-keygen -lf's form of a raw key blob. */
function sha256Fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

interface Session {
  client: Client;
  /** What hostVerifier saw: type and fingerprint of the key the server presented. */
  presented: { type: string; fingerprint: string };
}

/** Connects and authenticates, refusing any host key but `expectedFingerprint`. */
function connect(config: ConnectConfig, expectedFingerprint: string | undefined): Promise<Session> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    const presented = { type: '', fingerprint: '' };
    client.on('ready', () => resolve({ client, presented }));
    client.on('error', (error) => {
      client.end();
      reject(error);
    });
    client.connect({
      readyTimeout: 10_000,
      ...config,
      hostVerifier: (key: Buffer) => {
        const parsed = utils.parseKey(key);
        presented.type = parsed instanceof Error ? `unparsable: ${parsed.message}` : parsed.type;
        presented.fingerprint = sha256Fingerprint(key);
        return expectedFingerprint === undefined || presented.fingerprint === expectedFingerprint;
      },
    });
  });
}

function keyLogin(host: TestHost): ConnectConfig {
  return { host: host.address, port: host.port, username: host.user, privateKey: host.privateKey };
}

function passwordLogin(host: TestHost): ConnectConfig {
  if (host.password === undefined) throw new Error(`${host.name} has no password`);
  return { host: host.address, port: host.port, username: host.user, password: host.password };
}

async function withSession<T>(config: ConnectConfig, host: TestHost, use: (s: Session) => Promise<T>): Promise<T> {
  const session = await connect(config, host.hostKeyFingerprint);
  try {
    return await use(session);
  } finally {
    session.client.end();
  }
}

function run(client: Client, command: string, input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    client.exec(command, (error: Error | undefined, stream: ClientChannel) => {
      if (error) return reject(error);
      let stdout = '';
      let stderr = '';
      stream.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      stream.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      stream.on('close', (code: number | null) => resolve({ code, stdout, stderr }));
      stream.end(input ?? '');
    });
  });
}

/** Outcome of a plain TCP connect from the test process, bounded by `timeoutMs`. */
function tcpConnect(address: string, port: number, timeoutMs: number): Promise<'connected' | 'timeout' | string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    function finish(outcome: string) {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    }
    socket.on('connect', () => finish('connected'));
    socket.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
  });
}

/** The first line a server at address:port sends within `timeoutMs`, or why there was none. */
function firstLine(address: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    let received = '';
    const timer = setTimeout(() => finish(`(nothing within ${timeoutMs} ms)`), timeoutMs);
    function finish(outcome: string) {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    }
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.includes('\n')) finish(received.split('\n')[0] ?? '');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => finish(`(${error.code ?? error.message})`));
  });
}

/** Every trace of run `runId` still on the machine (empty when it is all gone). */
function tracesOf(runId: string, dir: string): string[] {
  const mark = `szt${runId}`;
  const out = (argv: string[]) => spawnSync(argv[0] ?? '', argv.slice(1), { encoding: 'utf8' }).stdout;
  const traces = [
    ...out(['ip', 'netns', 'list'])
      .split('\n')
      .filter((l) => l.includes(mark))
      .map((l) => `netns ${l}`),
    ...out(['ip', '-o', 'link'])
      .split('\n')
      .filter((l) => l.includes(mark))
      .map((l) => `link ${l.slice(0, 60)}`),
    ...out(['getent', 'passwd'])
      .split('\n')
      .filter((l) => l.startsWith(mark))
      .map((l) => `user ${l}`),
    ...fs
      .readdirSync('/etc/sudoers.d')
      .filter((f) => f.includes(mark))
      .map((f) => `sudoers ${f}`),
    ...fs
      .readFileSync('/etc/shells', 'utf8')
      .split('\n')
      .filter((l) => l.includes(mark))
      .map((l) => `shell ${l}`),
    ...['/run/sudo/ts', '/var/lib/sudo/lectured'].flatMap((d) =>
      (fs.existsSync(d) ? fs.readdirSync(d) : []).filter((f) => f.startsWith(mark)).map((f) => `sudo state ${d}/${f}`),
    ),
    ...(fs.existsSync('/etc/netns') ? fs.readdirSync('/etc/netns') : [])
      .filter((f) => f.startsWith(mark))
      .map((f) => `netns etc /etc/netns/${f}`),
  ];
  if (fs.existsSync(dir)) traces.push(`dir ${dir}`);
  return traces;
}

/** /etc/shells without the lines of harness runs (this one's or any other's). */
function systemShells(): string[] {
  return fs
    .readFileSync('/etc/shells', 'utf8')
    .split('\n')
    .filter((line) => !/\/szt[a-z0-9]{5}\/bin\/sh$/.test(line));
}

describe('test-host harness', () => {
  let lab: TestLab;
  let shellsBefore: string[];

  beforeAll(async () => {
    shellsBefore = systemShells();
    lab = await createTestLab();
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it('builds its /24 inside 198.18.0.0/16 on a bridge the test process sits on', () => {
    expect(lab.subnet).toMatch(/^198\.18\.\d{1,3}\.0\/24$/);
    expect(lab.gateway).toBe(lab.subnet.replace(/0\/24$/, '1'));
    const addresses = spawnSync('ip', ['-4', '-o', 'addr', 'show', 'dev', `szt${lab.runId}br`], { encoding: 'utf8' }).stdout;
    expect(addresses).toContain(`${lab.gateway}/24`);
  });

  it('root-key: root logs in with each client key, and the host key is the one the harness reports', async () => {
    const host = await lab.addSshHost({ login: 'root-key' });
    expect(host).toMatchObject({ kind: 'openssh', user: 'root', port: 22, hostKeyType: 'ssh-ed25519' });
    expect(host.password).toBeUndefined();
    expect(host.hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);

    const logins: ConnectConfig[] = [
      keyLogin(host),
      { ...keyLogin(host), privateKey: fs.readFileSync(host.encryptedKeyPath), passphrase: host.passphrase },
      { ...keyLogin(host), privateKey: fs.readFileSync(host.rsaKeyPath) },
    ];
    for (const login of logins) {
      await withSession(login, host, async ({ client, presented }) => {
        expect(presented).toEqual({ type: 'ssh-ed25519', fingerprint: host.hostKeyFingerprint });
        expect((await run(client, 'id -un')).stdout.trim()).toBe('root');
      });
    }
    // The host really is a namespace of its own holding that address.
    const truth = await lab.exec(host, 'ip -4 -o addr show dev eth0');
    expect(truth.stdout).toContain(`${host.address}/24`);
    // A wrong fingerprint is refused by the verifier, so the check above can fail.
    await expect(connect(keyLogin(host), 'SHA256:not-this-one')).rejects.toThrow();
  });

  it('sudo-nopasswd: password login, and sudo needs no password', async () => {
    const host = await lab.addSshHost({ login: 'sudo-nopasswd' });
    await withSession(passwordLogin(host), host, async ({ client }) => {
      expect((await run(client, 'id -un')).stdout.trim()).toBe(host.user);
      expect((await run(client, 'sudo -n true')).code).toBe(0);
      expect((await run(client, 'sudo -n id -un')).stdout.trim()).toBe('root');
    });
  });

  it('sudo-password: sudo refuses without the password and accepts the login password', async () => {
    const host = await lab.addSshHost({ login: 'sudo-password' });
    await withSession(passwordLogin(host), host, async ({ client }) => {
      expect((await run(client, 'id -un')).stdout.trim()).toBe(host.user);
      expect((await run(client, 'sudo -n true')).code).not.toBe(0);
      expect((await run(client, "sudo -S -p '' true", `${host.password}\n`)).code).toBe(0);
      expect((await run(client, "sudo -S -p '' true", 'wrong-password\n')).code).not.toBe(0);
      // Credentials are not cached: the next sudo asks again.
      expect((await run(client, 'sudo -n true')).code).not.toBe(0);
    });
  });

  it('no-sudo: the user logs in but sudo refuses even with the right password', async () => {
    const host = await lab.addSshHost({ login: 'no-sudo' });
    await withSession(passwordLogin(host), host, async ({ client }) => {
      expect((await run(client, 'id -un')).stdout.trim()).toBe(host.user);
      expect((await run(client, 'sudo -n true')).code).not.toBe(0);
      const withPassword = await run(client, "sudo -S -p '' true", `${host.password}\n`);
      expect(withPassword.code).not.toBe(0);
      expect(withPassword.stderr).toMatch(/not in the sudoers file|not allowed/);
    });
    // Key login works for the non-root users too.
    await withSession(keyLogin(host), host, async ({ client }) => {
      expect((await run(client, 'id -un')).stdout.trim()).toBe(host.user);
    });
  });

  it('dropbear: key and password login, the login shell is BusyBox sh', async () => {
    const host = await lab.addDropbearHost();
    expect(host.kind).toBe('dropbear');
    for (const login of [keyLogin(host), passwordLogin(host)]) {
      await withSession(login, host, async ({ client, presented }) => {
        expect(presented).toEqual({ type: 'ssh-ed25519', fingerprint: host.hostKeyFingerprint });
        const shell = await run(client, 'id -un; exe=$(readlink /proc/$$/exe); echo "$exe"; echo "$0"');
        const [user, exe, argv0] = shell.stdout.trim().split('\n');
        expect(user).toBe(host.user);
        expect(exe).toBe(fs.realpathSync('/bin/busybox'));
        expect(argv0).toBe('sh');
      });
    }
    const account = await lab.exec(host, `getent passwd ${host.user}`);
    const loginShell = account.stdout.trim().split(':')[6] ?? '';
    expect(fs.realpathSync(loginShell)).toBe(fs.realpathSync('/bin/busybox'));
    const banner = await lab.exec(host, `timeout 2 bash -c 'exec 3<>/dev/tcp/${host.address}/22; head -n 1 <&3'`, { timeoutMs: 5_000 });
    expect(banner.stdout).toMatch(/^SSH-2\.0-dropbear/);
  });

  it('jump pair: the target answers through the jump host only', async () => {
    const { jump, target } = await lab.addJumpPair();
    expect(target.jumpHost).toBe(jump);
    expect(target.address).toMatch(/^198\.19\./);

    // From the control center no route of ours leads there: the only candidate is the
    // default route, if the machine has one, and whatever answers there is not the target
    // (some CI uplinks accept every outbound TCP connection, so a bare connect proves nothing).
    const route = spawnSync('ip', ['-4', 'route', 'get', target.address], { encoding: 'utf8' }).stdout;
    expect(route).not.toContain(`szt${lab.runId}`);
    const started = Date.now();
    expect(await firstLine(target.address, 22, 1_500)).not.toMatch(/^SSH-2\.0-OpenSSH/);
    await expect(connect({ ...keyLogin(target), readyTimeout: 1_500 }, target.hostKeyFingerprint)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5_000);
    // Nor from another host of the lab, which has no default route at all.
    const other = await lab.addSshHost();
    const sideways = await lab.exec(other, `timeout 1 bash -c 'exec 3<>/dev/tcp/${target.address}/22' 2>&1`, { timeoutMs: 5_000 });
    expect(sideways.code).not.toBe(0);
    expect(sideways.stdout).toMatch(/unreachable/i);

    await withSession(keyLogin(jump), jump, async ({ client: jumpClient }) => {
      const stream = await new Promise<ClientChannel>((resolve, reject) =>
        jumpClient.forwardOut('127.0.0.1', 0, target.address, target.port, (error, channel) => (error ? reject(error) : resolve(channel))),
      );
      await withSession({ ...keyLogin(target), host: undefined, sock: stream }, target, async ({ client, presented }) => {
        expect(presented.fingerprint).toBe(target.hostKeyFingerprint);
        expect((await run(client, 'id -un')).stdout.trim()).toBe('root');
        const addresses = await run(client, 'ip -4 -o addr');
        expect(addresses.stdout).toContain(target.address);
        expect(addresses.stdout).not.toContain(lab.subnet.replace(/0\/24$/, ''));
      });
    });
  });

  it('tarpit: TCP is accepted but the handshake never completes within readyTimeout', async () => {
    const slow = await lab.addTarpitHost();
    expect(await tcpConnect(slow.address, slow.port, 1_000)).toBe('connected');
    const started = Date.now();
    const error = await connect(
      { host: slow.address, port: slow.port, username: slow.user, privateKey: slow.privateKey, readyTimeout: 2_000 },
      undefined,
    ).then(
      (s) => {
        s.client.end();
        return undefined;
      },
      (e: Error) => e,
    );
    const elapsed = Date.now() - started;
    expect(error?.message).toMatch(/timed out while waiting for handshake/i);
    expect(elapsed).toBeGreaterThanOrEqual(1_900);
  });

  it('unreachableAddress: nobody answers there', async () => {
    const address = lab.unreachableAddress();
    expect(address.startsWith(lab.subnet.replace(/0\/24$/, ''))).toBe(true);
    const outcome = await tcpConnect(address, 22, 5_000);
    expect(['EHOSTUNREACH', 'timeout']).toContain(outcome);
  });

  it('control center: routes only to the hosts it was given; a try to go anywhere else fails before a packet leaves, and is counted', async () => {
    const [reached, other] = await Promise.all([lab.addSshHost(), lab.addSshHost()]);
    const cc = await lab.addControlCenter({ reach: [reached] });
    const routes = await cc.routes();
    expect(routes.ipv4.filter((route) => !route.includes(' table local '))).toEqual([
      `${reached.address} dev eth0 scope link src ${cc.address}`,
    ]);
    for (const route of routes.ipv4.filter((r) => r.includes(' table local ')))
      expect(route).toMatch(new RegExp(`^(local|broadcast) (127\\.[0-9./]+ dev lo|${cc.address.replace(/\./g, '\\.')} dev eth0) `));
    for (const route of routes.ipv6) expect(route).toMatch(/^(local ::1|multicast ff00::\/8) dev lo /);
    const resolvConf = spawnSync('ip', ['netns', 'exec', cc.namespace, 'cat', '/etc/resolv.conf'], { encoding: 'utf8' }).stdout;
    expect(resolvConf.split('\n').filter((line) => line.startsWith('nameserver'))).toEqual([`nameserver ${cc.nameserver}`]);

    expect(await cc.tryConnect(reached.address, 22)).toEqual({ outcome: 'connected', counted: { ipv4: 0, ipv6: 0 } });
    // The root namespace (the gateway), a lab host not given, nobody on the bridge, the internet.
    for (const address of [lab.gateway, other.address, lab.unreachableAddress(), '192.0.2.1']) {
      expect(await cc.tryConnect(address, 22), address).toEqual({ outcome: 'ENETUNREACH', counted: { ipv4: 1, ipv6: 0 } });
    }
    expect(await cc.tryConnect('2001:db8::1', 443)).toEqual({ outcome: 'ENETUNREACH', counted: { ipv4: 0, ipv6: 1 } });
    // Name lookups, through getaddrinfo and through c-ares: the nameserver is out of reach too.
    for (const via of ['lookup', 'resolve'] as const) {
      const attempt = await cc.tryLookup('updates.example.com', via);
      expect(attempt.outcome, via).not.toMatch(/^resolved/);
      expect(attempt.counted.ipv4, via).toBeGreaterThan(0);
    }
    // The namespace's own loopback still works and counts nothing.
    expect((await cc.tryConnect('127.0.0.1', 9)).counted).toEqual({ ipv4: 0, ipv6: 0 });
    await expect(lab.addControlCenter({ reach: [{ ...reached, address: '198.19.0.2' }] })).rejects.toThrow(/not on the lab's bridge/);
  });

  it('twenty hosts come up in parallel, each its own machine with its own key, and each answers', async () => {
    const hosts = await lab.addSshHosts(20, 'root-key');
    expect(new Set(hosts.map((h) => h.address)).size).toBe(20);
    expect(new Set(hosts.map((h) => h.hostKeyFingerprint)).size).toBe(20);
    const answers = await Promise.all(
      hosts.map((host) =>
        withSession(keyLogin(host), host, async ({ client }) => (await run(client, 'id -un; ip -4 -o addr show dev eth0')).stdout),
      ),
    );
    answers.forEach((answer, i) => {
      expect(answer).toMatch(/^root\n/);
      expect(answer).toContain(`${hosts[i]?.address}/24`);
    });
  });

  it('rotateHostKey presents a new key; stopHost refuses connections until startHost', async () => {
    const host = await lab.addSshHost();
    const before = host.hostKeyFingerprint;
    await lab.rotateHostKey(host);
    expect(host.hostKeyFingerprint).not.toBe(before);
    await withSession(keyLogin(host), host, async ({ presented }) => {
      expect(presented.fingerprint).toBe(host.hostKeyFingerprint);
    });
    await expect(connect(keyLogin(host), before)).rejects.toThrow();

    await lab.stopHost(host);
    expect(await tcpConnect(host.address, host.port, 2_000)).toBe('ECONNREFUSED');
    await lab.startHost(host);
    await withSession(keyLogin(host), host, async ({ client }) => {
      expect((await run(client, 'id -un')).stdout.trim()).toBe('root');
    });
  });

  it('destroy removes every namespace, link, user, sudoers file, shells line, process and file of the run', async () => {
    const host = await lab.addSshHost({ login: 'sudo-password' });
    // One session left open on purpose: teardown must not wait for the client.
    const open = await connect(passwordLogin(host), host.hostKeyFingerprint);
    expect((await run(open.client, "sudo -S -p '' true", `${host.password}\n`)).code).toBe(0);
    const namespaces = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .stdout.split('\n')
      .map((l) => l.split(' ')[0] ?? '')
      .filter((n) => n.startsWith(`szt${lab.runId}`));
    const pids = pidsInNamespaces(namespaces);
    expect(pids.length).toBeGreaterThan(namespaces.length);
    expect(tracesOf(lab.runId, lab.dir).length).toBeGreaterThan(0);

    await lab.destroy();
    open.client.end();

    expect(tracesOf(lab.runId, lab.dir)).toEqual([]);
    expect(pids.filter(isProcessAlive)).toEqual([]);
    // The machine's own /etc/shells lines are untouched, in order (the BusyBox shell is a
    // link to /usr/bin/busybox: realpath-minded tools would have taken /usr/bin/sh too).
    expect(systemShells()).toEqual(shellsBefore);
    const addresses = spawnSync('ip', ['-4', '-o', 'addr'], { encoding: 'utf8' }).stdout;
    expect(addresses).not.toContain(`${lab.gateway}/24`);
    await expect(lab.destroy()).resolves.toBeUndefined();
    await expect(lab.addSshHost()).rejects.toThrow(/destroyed/);
  });
});

describe('test-host harness when its process dies', () => {
  interface ChildLab {
    runId: string;
    pid: number;
    dir: string;
    namespaces: string[];
  }

  // A child TypeScript process that builds a whole lab: on a loaded machine (two cores, load
  // 20) that alone took most of a minute; the bound only catches a hang.
  const CHILD_LAB_TEST_MS = 240_000;

  async function startChildLab(): Promise<{ child: ReturnType<typeof spawn>; info: ChildLab; exited: Promise<unknown> }> {
    const child = spawn(process.execPath, ['--import', 'tsx', childScript], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // Bounded by the test's own timeout, not a window of its own: on a loaded machine the
    // child's TypeScript start and lab creation take what they take. A child left behind by
    // a failed test is killed here and its lab swept by the next run.
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const info = await new Promise<ChildLab>((resolve, reject) => {
      let buffered = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const line = buffered.split('\n')[0];
        if (buffered.includes('\n') && line !== undefined) resolve(JSON.parse(line) as ChildLab);
      });
      child.on('exit', (code) => reject(new Error(`the child lab exited early with ${code}`)));
    });
    return { child, info, exited };
  }

  it(
    'SIGTERM: the exit handlers tear the lab down',
    async () => {
      const { child, info, exited } = await startChildLab();
      expect(tracesOf(info.runId, info.dir).length).toBeGreaterThan(0);
      const pids = pidsInNamespaces(info.namespaces);
      child.kill('SIGTERM');
      await exited;
      expect(tracesOf(info.runId, info.dir)).toEqual([]);
      expect(pids.filter(isProcessAlive)).toEqual([]);
    },
    CHILD_LAB_TEST_MS,
  );

  it(
    'SIGKILL: what the run left is swept by the next run, daemons included',
    async () => {
      const { child, info, exited } = await startChildLab();
      const pids = pidsInNamespaces(info.namespaces);
      // Held by this test, so a lab being created in another test process meanwhile (a loaded
      // machine makes "meanwhile" long) leaves the dead run for this test to look at and sweep.
      expect(holdRun(info.runId)).toBe(true);
      onTestFinished(() => releaseRun(info.runId));
      child.kill('SIGKILL');
      await exited;
      // Nothing could clean up: the daemons outlive their parent.
      expect(tracesOf(info.runId, info.dir).length).toBeGreaterThan(0);
      expect(pids.filter(isProcessAlive).length).toBeGreaterThan(0);

      // Held by another live process (one sweeping it, say): not this sweep's to take.
      const holder = spawn('sleep', ['600'], { stdio: 'ignore' });
      const holderExited = new Promise((resolve) => holder.on('exit', resolve));
      onTestFinished(() => void holder.kill('SIGKILL'));
      expect(passHold(info.runId, holder.pid!)).toBe(true);
      expect(sweepLeftovers()).not.toContain(info.runId);
      expect(tracesOf(info.runId, info.dir).length).toBeGreaterThan(0);
      // Its holder died (a sweeper killed halfway): the next sweep takes it over.
      holder.kill('SIGKILL');
      await holderExited;

      expect(sweepLeftovers()).toContain(info.runId);
      expect(tracesOf(info.runId, info.dir)).toEqual([]);
      expect(pids.filter(isProcessAlive)).toEqual([]);
    },
    CHILD_LAB_TEST_MS,
  );
});

describe('test-host harness prerequisites', () => {
  it('names a missing binary and the package that brings it', () => {
    const binaries = [...REQUIRED_BINARIES, { path: '/usr/sbin/dropbear-that-is-not-there', pkg: 'dropbear-bin' }];
    expect(() => assertPrerequisites(binaries)).toThrow(TestLabPrerequisiteError);
    expect(() => assertPrerequisites(binaries)).toThrow(
      /dropbear-that-is-not-there \(package dropbear-bin\).*apt-get install -y dropbear-bin/,
    );
  });

  it('refuses to start without root, saying so and what to do', () => {
    const code = `import(${JSON.stringify(path.join(repoRoot, 'tests/support/test-hosts/test-hosts.ts'))})
      .then((m) => m.createTestLab())
      .then(() => console.log('{"name":"built"}'), (e) => console.log(JSON.stringify({ name: e.name, message: e.message })))`;
    const out = spawnSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', '-e', code],
      {
        cwd: repoRoot,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp' },
        // Below the test's 60 s: a loaded machine's TypeScript start may take seconds.
        timeout: 50_000,
      },
    );
    const result = JSON.parse(out.stdout.trim().split('\n').pop() ?? '{}') as { name?: string; message?: string };
    expect(result.name).toBe('TestLabPrerequisiteError');
    expect(result.message).toMatch(/root \(running as uid 65534\).*Remedy: run the integration tests as root/);
  });
});
