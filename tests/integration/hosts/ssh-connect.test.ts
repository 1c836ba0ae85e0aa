import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ApiError, HostFactsSchema, type ErrorCode, type HostFacts } from '../../../electron/contract';
import {
  connectSsh,
  scanHostKey,
  type PinnedHostKey,
  type SshCredentials,
  type SshTarget,
} from '../../../electron/backend/hosts/ssh/connect-ssh';
import { probeOverSsh } from '../../../electron/backend/hosts/ssh/remote-probe';
import { HostKeyRefusedError } from '../../../electron/backend/hosts/ssh/ssh-errors';
import type { SshSession } from '../../../electron/backend/hosts/ssh/ssh-session';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';

// Real OpenSSH and Dropbear servers in network namespaces (tests/support/test-hosts):
// every failure an operator can meet, with its code, and proof that trust comes first.

const labRef = useTestLab();
const TIMEOUT_MS = 1_500;
// Time for a timer, a socket teardown and a busy 2-core machine.
const MARGIN_MS = 700;

let rootHost: TestHost;
let passwordHost: TestHost;
let dropbearHost: TestHost;
let pair: { jump: TestHost; target: TestHost };

beforeAll(async () => {
  const { lab } = labRef;
  [rootHost, passwordHost, dropbearHost, pair] = await Promise.all([
    lab.addSshHost({ login: 'root-key' }),
    lab.addSshHost({ login: 'no-sudo' }),
    lab.addDropbearHost(),
    lab.addJumpPair(),
  ]);
});

function pinOf(host: TestHost, trustedAt = Date.now()): PinnedHostKey {
  return { keyType: host.hostKeyType, fingerprint: host.hostKeyFingerprint, trustedAt };
}

function keyLogin(host: TestHost): SshCredentials {
  return { method: 'key', keyPath: host.privateKeyPath };
}

function targetFor(host: TestHost, overrides: Partial<SshTarget> = {}): SshTarget {
  return {
    hostId: 1,
    name: host.name,
    address: host.address,
    port: host.port,
    user: host.user,
    credentials: keyLogin(host),
    pinned: pinOf(host),
    jump: null,
    ...overrides,
  };
}

async function failure(promise: Promise<unknown>, code: ErrorCode): Promise<ApiError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error, `expected ${code}`).toBeInstanceOf(ApiError);
  const api = error as ApiError;
  expect({ code: api.code, message: api.message }).toMatchObject({ code });
  expect(api.remedy.length).toBeGreaterThan(20);
  return api;
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

function openTcpHandles(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap' || kind === 'TCPWrap').length;
}

/** The count once the sockets of earlier tests (closed a moment ago) are gone. */
async function settledTcpHandles(): Promise<number> {
  const until = Date.now() + 1_000;
  while (openTcpHandles() > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
  return openTcpHandles();
}

/** Sockets are released a tick after destroy(); wait a little, then insist. */
async function expectTcpHandlesBackTo(baseline: number, withinMs = 3_000): Promise<void> {
  const until = Date.now() + withinMs;
  while (openTcpHandles() > baseline && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(openTcpHandles()).toBe(baseline);
}

/** A local TCP server that counts connections: the proof that nothing was dialled. */
async function connectionCounter(): Promise<{ port: number; count(): number; close(): Promise<void> }> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    count: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function sshdLog(host: TestHost): string {
  return fs.readFileSync(path.join(labRef.lab.dir, 'hosts', host.namespace, 'sshd.log'), 'utf8');
}

/** sshd writes the end of a connection a moment after the client has gone. */
async function sshdLogAfter(host: TestHost, marker: RegExp, since: number): Promise<string> {
  const until = Date.now() + 3_000;
  for (;;) {
    const added = sshdLog(host).slice(since);
    if (marker.test(added) || Date.now() > until) return added;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('trust before credentials', () => {
  it('scans the host key, then logs in with it pinned and runs a command', async () => {
    const baseline = await settledTcpHandles();
    const scanned = await scanHostKey(targetFor(rootHost, { pinned: null }), { timeoutMs: TIMEOUT_MS });
    expect(scanned).toMatchObject({ keyType: 'ssh-ed25519', fingerprint: rootHost.hostKeyFingerprint });
    expect(`${scanned.keyType} ${scanned.publicKey.toString('base64')}`).toBe(
      rootHost.hostPublicKey.trim().split(/\s+/).slice(0, 2).join(' '),
    );

    const session = await connectSsh(targetFor(rootHost, { pinned: { ...scanned, trustedAt: Date.now() } }), { timeoutMs: TIMEOUT_MS });
    const result = await session.exec('id -un; cat; echo oops >&2; exit 7', { stdin: 'from stdin\n' });
    expect(result).toEqual({ code: 7, signal: null, stdout: 'root\nfrom stdin\n', stderr: 'oops\n' });
    expect(session.execChannels).toBe(1);
    session.close();
    await expectTcpHandlesBackTo(baseline);
  });

  it('refuses an unpinned key before any credential leaves this machine', async () => {
    const baseline = await settledTcpHandles();
    const logStart = sshdLog(passwordHost).length;
    // Method 1, our side: the password is read only through this getter, and ssh2's
    // packet trace must show no USERAUTH_REQUEST.
    let passwordReads = 0;
    const password = passwordHost.password!;
    const credentials = {
      method: 'password' as const,
      get password() {
        passwordReads += 1;
        return password;
      },
    };
    const trace: string[] = [];
    const error = await failure(
      connectSsh(targetFor(passwordHost, { credentials, pinned: null }), { timeoutMs: TIMEOUT_MS, trace: (line) => trace.push(line) }),
      'HOST_KEY_UNKNOWN',
    );
    expect(error.message).toContain(`${passwordHost.name} (${passwordHost.address}:22)`);
    expect(error.message).toContain(`ssh-ed25519 ${passwordHost.hostKeyFingerprint}`);
    expect(error.remedy).toContain('Check host key');
    expect(error.remedy).not.toContain('sutazai');
    expect(error.cliRemedy).toContain(`sutazai hosts trust ${passwordHost.name} --trust ${passwordHost.hostKeyFingerprint}`);
    expect((error as HostKeyRefusedError).presented?.fingerprint).toBe(passwordHost.hostKeyFingerprint);
    expect(passwordReads).toBe(0);
    expect(trace.some((line) => /Host denied/.test(line))).toBe(true);
    expect(trace.filter((line) => /USERAUTH|SERVICE_REQUEST/.test(line))).toEqual([]);
    expect(JSON.stringify(error.toBody())).not.toContain(password);

    // Method 2, the server's side: sshd (LogLevel VERBOSE) saw the client leave during
    // key exchange, and no authentication attempt at all...
    const refusedLog = await sshdLogAfter(passwordHost, /Disconnected from .* \[preauth\]/, logStart);
    expect(refusedLog).toMatch(/Received disconnect from .*:3: .*\[preauth\]/);
    expect(refusedLog).not.toMatch(/password|publickey|authenticating user|Accepted|Failed|Invalid user/i);

    // ...while the same log does record a password attempt once the key is trusted.
    const controlStart = sshdLog(passwordHost).length;
    const wrong = { method: 'password' as const, password: 'not-the-password' };
    await failure(connectSsh(targetFor(passwordHost, { credentials: wrong }), { timeoutMs: TIMEOUT_MS }), 'AUTH_FAILED');
    const controlLog = await sshdLogAfter(passwordHost, /Failed password/, controlStart);
    expect(controlLog).toMatch(new RegExp(`Failed password for ${passwordHost.user} from`));
    await expectTcpHandlesBackTo(baseline);
  });

  it('refuses a changed key, naming both fingerprints and when the old one was trusted', async () => {
    const { lab } = labRef;
    const host = await lab.addSshHost({ login: 'root-key' });
    const oldPin = pinOf(host, Date.UTC(2026, 4, 3, 12, 0, 0));
    const oldFingerprint = host.hostKeyFingerprint;
    await lab.rotateHostKey(host);
    expect(host.hostKeyFingerprint).not.toBe(oldFingerprint);

    const error = await failure(connectSsh(targetFor(host, { pinned: oldPin }), { timeoutMs: TIMEOUT_MS }), 'HOST_KEY_MISMATCH');
    expect(error.message).toBe(
      `The host key of host ${host.name} (${host.address}:22) changed since you trusted it on 3 May 2026 (ssh-ed25519 ${oldFingerprint}); it now presents ssh-ed25519 ${host.hostKeyFingerprint}. Nothing was sent to it.`,
    );
    expect(error.remedy).toMatch(/deliberate/);
    expect(error.remedy).not.toContain('sutazai');
    expect(error.cliRemedy).toMatch(/deliberate/);
    expect(error.cliRemedy).toContain(`sutazai hosts trust ${host.name} --trust ${host.hostKeyFingerprint}`);

    // Re-trusting the new key (what the operator does on purpose) lets it in again.
    const session = await connectSsh(targetFor(host), { timeoutMs: TIMEOUT_MS });
    session.close();
  });
});

describe('credentials', () => {
  it('reports a refused password as AUTH_FAILED', async () => {
    const error = await failure(
      connectSsh(targetFor(passwordHost, { credentials: { method: 'password', password: 'wrong-password' } }), { timeoutMs: TIMEOUT_MS }),
      'AUTH_FAILED',
    );
    expect(error.message).toBe(
      `Host ${passwordHost.name} (${passwordHost.address}:22) refused the password for user ${passwordHost.user} (it accepts: publickey, password).`,
    );
    expect(error.message).not.toContain('wrong-password');
  });

  it('logs in with the right password, and with an encrypted key and its passphrase', async () => {
    const byPassword = await connectSsh(
      targetFor(passwordHost, { credentials: { method: 'password', password: passwordHost.password! } }),
      { timeoutMs: TIMEOUT_MS },
    );
    expect((await byPassword.exec('id -un')).stdout).toBe(`${passwordHost.user}\n`);
    byPassword.close();
    const byKey = await connectSsh(
      targetFor(passwordHost, {
        credentials: { method: 'key', keyPath: passwordHost.encryptedKeyPath, passphrase: passwordHost.passphrase },
      }),
      { timeoutMs: TIMEOUT_MS },
    );
    expect((await byKey.exec('id -un')).stdout).toBe(`${passwordHost.user}\n`);
    byKey.close();
  });

  it('reports a wrong or missing passphrase and a missing key file without touching the network', async () => {
    const counter = await connectionCounter();
    try {
      const local = { address: '127.0.0.1', port: counter.port };
      const wrong = await failure(
        connectSsh(
          targetFor(rootHost, { ...local, credentials: { method: 'key', keyPath: rootHost.encryptedKeyPath, passphrase: 'not-it' } }),
          { timeoutMs: TIMEOUT_MS },
        ),
        'KEY_PASSPHRASE_WRONG',
      );
      expect(wrong.message).toContain(rootHost.encryptedKeyPath);
      expect(wrong.message).not.toContain('not-it');
      await failure(
        connectSsh(targetFor(rootHost, { ...local, credentials: { method: 'key', keyPath: rootHost.encryptedKeyPath } }), {
          timeoutMs: TIMEOUT_MS,
        }),
        'KEY_PASSPHRASE_WRONG',
      );
      const missing = await failure(
        connectSsh(targetFor(rootHost, { ...local, credentials: { method: 'key', keyPath: '/nonexistent/id_ed25519' } }), {
          timeoutMs: TIMEOUT_MS,
        }),
        'KEY_FILE_UNREADABLE',
      );
      expect(missing.message).toMatch(/\/nonexistent\/id_ed25519 .*does not exist/);
      // The same key file of a jump host fails first too, before the jump is dialled.
      const viaJump = targetFor(rootHost, {
        jump: targetFor(rootHost, { ...local, credentials: { method: 'key', keyPath: '/nonexistent/jump_key' } }),
      });
      await failure(connectSsh(viaJump, { timeoutMs: TIMEOUT_MS }), 'KEY_FILE_UNREADABLE');
      expect(counter.count()).toBe(0);
    } finally {
      await counter.close();
    }
  });
});

describe('the SSH agent', () => {
  it('logs in with a key held by ssh-agent, and says when the agent cannot help', async () => {
    const socket = path.join(labRef.lab.dir, `agent-${process.pid}.sock`);
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    try {
      const until = Date.now() + 5_000;
      while (!fs.existsSync(socket) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
      const viaAgent = targetFor(rootHost, { credentials: { method: 'agent', agentSocket: socket } });
      // An empty agent: the server refuses, and the message says it was the agent's keys.
      const empty = await failure(connectSsh(viaAgent, { timeoutMs: TIMEOUT_MS }), 'AUTH_FAILED');
      expect(empty.message).toContain('the keys in the SSH agent');

      execFileSync('ssh-add', ['-q', rootHost.privateKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
      const session = await connectSsh(viaAgent, { timeoutMs: TIMEOUT_MS });
      expect((await session.exec('id -un')).stdout).toBe('root\n');
      session.close();

      const gone = await failure(
        connectSsh(targetFor(rootHost, { credentials: { method: 'agent', agentSocket: `${socket}.missing` } }), { timeoutMs: TIMEOUT_MS }),
        'AUTH_FAILED',
      );
      expect(gone.message).toMatch(/no agent listening/);
    } finally {
      agent.kill();
    }
  });
});

describe('unreachable and silent hosts', () => {
  it('gives up on an address no one answers for within the deadline', async () => {
    const baseline = await settledTcpHandles();
    const { value: error, ms } = await timed(() =>
      failure(connectSsh(targetFor(rootHost, { address: labRef.lab.unreachableAddress() }), { timeoutMs: TIMEOUT_MS }), 'HOST_UNREACHABLE'),
    );
    expect(ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
    expect(error.message).toContain(`(${labRef.lab.unreachableAddress()}:22)`);
    await expectTcpHandlesBackTo(baseline);
  });

  it('reports a server that accepts TCP but never greets as HANDSHAKE_TIMEOUT', async () => {
    const tarpit = await labRef.lab.addTarpitHost();
    const baseline = await settledTcpHandles();
    const target: SshTarget = {
      hostId: 9,
      name: tarpit.name,
      address: tarpit.address,
      port: tarpit.port,
      user: 'root',
      credentials: { method: 'key', keyPath: tarpit.privateKeyPath },
      pinned: null,
      jump: null,
    };
    const { value: error, ms } = await timed(() => failure(connectSsh(target, { timeoutMs: TIMEOUT_MS }), 'HANDSHAKE_TIMEOUT'));
    // The tarpit never greets: only our timer can end this (its code says it did), so no
    // upper bound in time, which a busy machine would stretch.
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(error.message).toBe(`Host ${tarpit.name} (${tarpit.address}:22) accepted the connection but sent no SSH greeting within 1.5 s.`);
    await expectTcpHandlesBackTo(baseline);

    // The caller's signal ends the attempt early, and also leaves nothing open.
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const cancelled = await timed(() => failure(connectSsh(target, { timeoutMs: 10_000, signal: controller.signal }), 'SSH_FAILED'));
    expect(cancelled.value.message).toMatch(/was cancelled/);
    expect(cancelled.ms).toBeLessThan(10_000); // the signal ended it, not its own timeout
    await expectTcpHandlesBackTo(baseline);
  });

  it('reports a closed port as CONNECTION_REFUSED', async () => {
    await failure(connectSsh(targetFor(rootHost, { port: 2222 }), { timeoutMs: TIMEOUT_MS }), 'CONNECTION_REFUSED');
  });
});

describe('jump hosts', () => {
  it('reaches a target only the jump host can reach, and closes both connections', async () => {
    const { jump, target } = pair;
    const baseline = await settledTcpHandles();
    // Directly, the target's address is not on any link of ours. (Where this machine has a
    // default route, something out there may even answer; it is never the target.)
    const logStart = sshdLog(target).length;
    const direct = await connectSsh(targetFor(target), { timeoutMs: TIMEOUT_MS }).then(
      () => null,
      (error: ApiError) => error.code,
    );
    expect(['HOST_UNREACHABLE', 'SSH_FAILED', 'HANDSHAKE_TIMEOUT', 'CONNECTION_REFUSED']).toContain(direct);
    expect(sshdLog(target).slice(logStart)).not.toMatch(/Connection from/);
    await expectTcpHandlesBackTo(baseline);

    const viaJump = targetFor(target, { jump: targetFor(jump) });
    const scanned = await scanHostKey(targetFor(target, { pinned: null, jump: targetFor(jump) }), { timeoutMs: TIMEOUT_MS });
    expect(scanned.fingerprint).toBe(target.hostKeyFingerprint);
    await expectTcpHandlesBackTo(baseline);

    const session = await connectSsh(viaJump, { timeoutMs: TIMEOUT_MS });
    expect(openTcpHandles()).toBe(baseline + 1); // one TCP connection, to the jump host
    const where = await session.exec('cat /proc/sys/kernel/hostname; ip -o -4 addr show');
    expect(where.code).toBe(0);
    expect(where.stdout).toContain(target.address);
    session.close();
    await expectTcpHandlesBackTo(baseline);
  });

  it('checks the jump host key too, and says which host refused', async () => {
    const { jump, target } = pair;
    const error = await failure(
      connectSsh(targetFor(target, { jump: targetFor(jump, { pinned: null }) }), { timeoutMs: TIMEOUT_MS }),
      'HOST_KEY_UNKNOWN',
    );
    expect(error.message).toContain(`Jump host ${jump.name} (${jump.address}:22) for ${target.name}`);
    const unpinnedTarget = await failure(
      connectSsh(targetFor(target, { pinned: null, jump: targetFor(jump) }), { timeoutMs: TIMEOUT_MS }),
      'HOST_KEY_UNKNOWN',
    );
    expect(unpinnedTarget.message).toContain(`Host ${target.name} (${target.address}:22)`);
  });

  it('reports what the jump host met on its way to the target', async () => {
    const { jump, target } = pair;
    const refused = await failure(
      connectSsh(targetFor(target, { port: 2222, jump: targetFor(jump) }), { timeoutMs: TIMEOUT_MS }),
      'CONNECTION_REFUSED',
    );
    expect(refused.message).toContain(`through jump host ${jump.name}`);
  });
});

describe('Dropbear with a BusyBox shell', () => {
  it('logs in by key and by password and runs commands under BusyBox sh', async () => {
    for (const credentials of [keyLogin(dropbearHost), { method: 'password' as const, password: dropbearHost.password! }]) {
      const session = await connectSsh(targetFor(dropbearHost, { credentials }), { timeoutMs: TIMEOUT_MS });
      const result = await session.exec('readlink /proc/$$/exe; id -un; read line; echo "got $line"', { stdin: 'hello\n' });
      expect(result).toMatchObject({ code: 0, stdout: `/usr/bin/busybox\n${dropbearHost.user}\ngot hello\n` });
      session.close();
    }
  });
});

// Generous: these tests count channels and compare facts, not speed, and run beside other
// test files on two cores (CI saw one probe of twenty pass 30 s there).
const PROBE_TIMEOUT_MS = 90_000;
const PROBE_CONNECT_TIMEOUT_MS = 30_000;

/** Connects, probes with one exec channel (asserted), closes. */
async function probeHost(target: SshTarget, options: { sudoPassword?: string; shell?: string } = {}): Promise<HostFacts> {
  let session: SshSession | undefined;
  try {
    session = await connectSsh(target, { timeoutMs: PROBE_CONNECT_TIMEOUT_MS });
    const before = session.execChannels;
    const facts = await probeOverSsh(session, { timeoutMs: PROBE_TIMEOUT_MS, ...options });
    expect(session.execChannels - before).toBe(1);
    return facts;
  } finally {
    session?.close();
  }
}

/** The machine as the harness sees it from inside the host's namespace, without SSH. */
async function truthOf(host: TestHost): Promise<{ threads: number; memoryBytes: number; kernel: string; hostname: string }> {
  const out = await labRef.lab.exec(
    host,
    "grep -c '^processor' /proc/cpuinfo; awk '/^MemTotal:/ { print $2 }' /proc/meminfo; uname -r; cat /proc/sys/kernel/hostname",
  );
  const [threads, memKb, kernel, hostname] = out.stdout.trim().split('\n');
  return { threads: Number(threads), memoryBytes: Number(memKb) * 1024, kernel: kernel!, hostname: hostname! };
}

async function expectFactsMatch(host: TestHost, facts: HostFacts): Promise<void> {
  expect(HostFactsSchema.parse(facts)).toEqual(facts);
  const truth = await truthOf(host);
  expect(facts.source).toBe('ssh');
  expect(facts.cpu?.threads).toBe(truth.threads);
  expect(facts.memory?.totalBytes).toBe(truth.memoryBytes);
  expect(facts.os.kernel).toBe(truth.kernel);
  expect(facts.os.hostname).toBe(truth.hostname);
  // Each host has its own network namespace: its address proves where the probe ran.
  const addresses = (facts.network ?? []).flatMap((nic) => nic.addresses.map((a) => a.address));
  expect(addresses).toContain(host.address);
}

async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  run: (item: T) => Promise<R>,
): Promise<{ results: R[]; peak: number }> {
  const results = new Array<R>(items.length);
  let next = 0;
  let active = 0;
  let peak = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) {
      active += 1;
      peak = Math.max(peak, active);
      try {
        results[i] = await run(items[i]!);
      } finally {
        active -= 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return { results, peak };
}

describe('the remote probe', () => {
  it('reads the facts of an OpenSSH host and of the Dropbear/BusyBox host in one exec channel each', async () => {
    const [openssh, dropbear, busybox, jumped] = await Promise.all([
      probeHost(targetFor(rootHost)),
      probeHost(targetFor(dropbearHost)),
      // The BusyBox login shell finds Debian's dash as `sh` in PATH; run the script
      // under BusyBox ash itself too, as on a BusyBox-only system.
      probeHost(targetFor(dropbearHost), { shell: '/usr/bin/busybox sh' }),
      probeHost(targetFor(pair.target, { jump: targetFor(pair.jump) })),
    ]);
    await expectFactsMatch(rootHost, openssh);
    await expectFactsMatch(dropbearHost, dropbear);
    await expectFactsMatch(dropbearHost, busybox);
    await expectFactsMatch(pair.target, jumped);
    expect(openssh.privilege).toMatchObject({ level: 'root', user: 'root', uid: 0 });
    expect(dropbear.privilege).toMatchObject({ user: dropbearHost.user });
  });

  it('finds the privilege of each kind of user, checking a sudo password it is given', async () => {
    const { lab } = labRef;
    const [nopasswd, withPassword] = await Promise.all([
      lab.addSshHost({ login: 'sudo-nopasswd' }),
      lab.addSshHost({ login: 'sudo-password' }),
    ]);
    const byPassword = (host: TestHost) => targetFor(host, { credentials: { method: 'password', password: host.password! } });
    const [none, free, unchecked, right, wrong] = await Promise.all([
      // As the host service does: sudo is asked with the login password when no other is
      // stored. (Without any password, sudo -n cannot tell "no rules" from "asks for one".)
      probeHost(byPassword(passwordHost), { sudoPassword: passwordHost.password! }),
      probeHost(targetFor(nopasswd)),
      probeHost(targetFor(withPassword)),
      probeHost(byPassword(withPassword), { sudoPassword: withPassword.password! }),
      probeHost(byPassword(withPassword), { sudoPassword: 'not-the-sudo-password' }),
    ]);
    expect(none.privilege).toMatchObject({ level: 'none', user: passwordHost.user });
    expect(free.privilege).toMatchObject({ level: 'sudo-nopasswd', user: nopasswd.user });
    expect(unchecked.privilege).toMatchObject({ level: 'sudo-password', sudoPasswordVerified: null });
    expect(right.privilege).toMatchObject({ level: 'sudo-password', sudoPasswordVerified: true });
    expect(wrong.privilege).toMatchObject({ level: 'sudo-password', sudoPasswordVerified: false });
    expect(JSON.stringify([right, wrong])).not.toMatch(new RegExp(`${withPassword.password!}|not-the-sudo-password`));
  });

  it('probes 20 hosts in parallel, 8 at a time', async () => {
    const hosts = await labRef.lab.addSshHosts(20, 'root-key');
    const { results, peak } = await mapWithConcurrency(hosts, 8, (host) => probeHost(targetFor(host)));
    expect(peak).toBe(8);
    expect(results).toHaveLength(20);
    for (const [i, facts] of results.entries()) {
      const addresses = (facts.network ?? []).flatMap((nic) => nic.addresses.map((a) => a.address));
      expect(addresses).toContain(hosts[i]!.address);
      expect(facts.privilege?.level).toBe('root');
    }
    await expectFactsMatch(hosts[0]!, results[0]!);
  }, 300_000);
});

describe('sessions', () => {
  it('gives up on a command past its timeout, keeps the connection, and fails commands once the host is gone', async () => {
    const { lab } = labRef;
    const host = await lab.addSshHost({ login: 'root-key' });
    const session = await connectSsh(targetFor(host), { timeoutMs: TIMEOUT_MS });
    const slow = await timed(() => failure(session.exec('sleep 5', { timeoutMs: 300 }), 'SSH_FAILED'));
    expect(slow.value.message).toBe(`A command did not finish within 0.3 s on host ${host.name} (${host.address}:22).`);
    expect(slow.ms).toBeLessThan(5_000); // cut by the timeout, before the command's own end
    expect((await session.exec('echo still here')).stdout).toBe('still here\n');
    expect(session.execChannels).toBe(2);

    const running = failure(session.exec('sleep 30'), 'SSH_FAILED');
    await lab.stopHost(host);
    expect((await running).message).toMatch(/connection was lost/);
    await failure(session.exec('true'), 'SSH_FAILED');
    session.close();
  });
});

describe('afterwards', () => {
  it('leaves no socket open behind any of the above', async () => {
    await expectTcpHandlesBackTo(0);
  });
});
