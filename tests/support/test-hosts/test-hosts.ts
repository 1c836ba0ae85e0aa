import fs from 'node:fs';
import path from 'node:path';
import { authorizedKeysFor, generateClientKeys, type ClientKeys } from './client-keys';
import { BLACKHOLE_NAMESERVER, createControlCenter, type ControlCenter } from './control-center';
import type { Daemon } from './daemon';
import { startDropbear } from './dropbear';
import { addShell } from './etc-shells';
import { onProcessExit } from './exit-hooks';
import { generateDropbearHostKey, generateOpensshHostKey, type HostKey } from './host-keys';
import { pidsInNamespaces, terminate } from './kill-processes';
import { createBridge, createHostNamespace, createIsolatedNamespace, IP, linkNamespaces } from './netns';
import { assertPrerequisites } from './prerequisites';
import { MAX_HOSTS, names, USER_ROLES, type UserRole } from './resource-names';
import { runCommand, type CommandResult } from './run-command';
import { REGISTRY_DIR, registerRun } from './run-registry';
import { startSshd } from './sshd';
import { enterHost, startSystemdHost, stopSystemdHostSync, unitDirOf, type SystemdDaemon } from './systemd-host';
import { claimFreeSubnet, type Subnet } from './subnet';
import { installSudoers, renderSudoers } from './sudoers';
import { startTarpit } from './tarpit';
import { removeRunSync, sweepLeftovers } from './teardown';
import { createUser, type TestUser } from './test-users';

// The entry of the test-host harness: real sshd and Dropbear servers, each in its own
// network namespace on a bridge that the test process (the "control center") reaches
// directly. See README.md in this folder.

export type { ControlCenter } from './control-center';

export type SshLogin = 'root-key' | 'sudo-nopasswd' | 'sudo-password' | 'no-sudo';
export type HostLogin = SshLogin | 'busybox-user';

/** Anything in the lab with an address: an SSH host or the tarpit. */
export interface TestEndpoint {
  /** Human label, e.g. `sudo-password-3`. */
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** Its network namespace (`ip netns exec <namespace> ...`). */
  readonly namespace: string;
}

export interface TestHost extends TestEndpoint {
  readonly kind: 'openssh' | 'dropbear';
  readonly login: HostLogin;
  readonly user: string;
  /** Login password; absent for root, which logs in with keys only. */
  readonly password?: string;
  /** Unencrypted ed25519 client key, authorised for `user`. */
  readonly privateKeyPath: string;
  readonly privateKey: Buffer;
  /** ed25519 client key encrypted with `passphrase`, authorised for `user`. */
  readonly encryptedKeyPath: string;
  readonly passphrase: string;
  /** RSA client key, authorised for `user`. */
  readonly rsaKeyPath: string;
  readonly hostKeyType: 'ssh-ed25519';
  /** As `ssh-keygen -lf` prints it: `SHA256:` + unpadded base64. Changes on rotateHostKey. */
  hostKeyFingerprint: string;
  /** `ssh-ed25519 AAAA...`. Changes on rotateHostKey. */
  hostPublicKey: string;
  /** For a host reachable only through another: the host to jump through. */
  readonly jumpHost?: TestHost;
}

/** An OpenSSH host whose PID 1 is systemd (systemd-host.ts); sshd is one of its units. */
export interface SystemdHost extends TestHost {
  readonly init: 'systemd';
  /** The host's /etc/systemd/system, as this machine sees it. */
  readonly unitDir: string;
}

export interface TarpitHost extends TestEndpoint {
  readonly kind: 'tarpit';
  /** Credentials a client may be handed; it never gets far enough to use them. */
  readonly user: 'root';
  readonly privateKeyPath: string;
  readonly privateKey: Buffer;
}

export interface ExecOptions {
  input?: string;
  timeoutMs?: number;
}

export interface TestLab {
  readonly runId: string;
  /** e.g. 198.18.7.0/24 */
  readonly subnet: string;
  /** The root namespace's address on the lab bridge (the control center's source address). */
  readonly gateway: string;
  /** The run's temp dir (keys, homes, daemon configs and logs). */
  readonly dir: string;
  readonly keys: ClientKeys;
  /** `sftp: false`: its sshd has no sftp subsystem (a hardened server). */
  addSshHost(options?: { login?: SshLogin; sftp?: boolean }): Promise<TestHost>;
  /** `count` hosts started in parallel. */
  addSshHosts(count: number, login?: SshLogin): Promise<TestHost[]>;
  /** Dropbear; its user's login shell is BusyBox sh; key and password login. */
  addDropbearHost(): Promise<TestHost>;
  /**
   * Root login by key to a host that systemd runs as PID 1 (its own pid, mount and cgroup
   * namespaces; see systemd-host.ts, and systemdHostSupport() for whether this machine can).
   * `exec` runs inside all of its namespaces; stop/start reboot it.
   */
  addSystemdHost(): Promise<SystemdHost>;
  /** `target` is reachable only through `jump` (its address is on a link between the two namespaces). */
  addJumpPair(options?: { jumpLogin?: SshLogin; targetLogin?: SshLogin }): Promise<{ jump: TestHost; target: TestHost }>;
  /** Accepts TCP on port 22 and never sends a banner. */
  addTarpitHost(): Promise<TarpitHost>;
  /**
   * A namespace for the control center itself, on the bridge, whose only routes lead to the
   * hosts in `reach` (a /32 each): nothing to the gateway, the other hosts or anywhere else,
   * no IPv6 but loopback, and a resolv.conf naming `nameserver` (default: an address it has
   * no route to). Run programs in it with `command(argv)`; see control-center.ts.
   */
  addControlCenter(options: { reach: readonly TestEndpoint[]; nameserver?: string }): Promise<ControlCenter>;
  /** An address in the lab's /24 that no one holds: connections to it get no ARP reply. */
  unreachableAddress(): string;
  /** New host key, daemon restarted; updates and returns `host`. */
  rotateHostKey(host: TestHost): Promise<TestHost>;
  /** Stops the server (and every session on it); the address stays up, connections are refused. */
  stopHost(host: TestEndpoint): Promise<void>;
  /** Starts a stopped server again with the same key. */
  startHost(host: TestEndpoint): Promise<void>;
  /** Runs `command` with /bin/sh as root inside the host's namespace. Any exit code resolves. */
  exec(host: TestEndpoint, command: string, options?: ExecOptions): Promise<CommandResult>;
  /** Stops and removes everything the lab made. Idempotent; also runs at process exit. */
  destroy(): Promise<void>;
}

const SSH_PORT = 22;
const PARALLEL_HOST_STARTS = 8;
const BUSYBOX = '/usr/bin/busybox';

export async function createTestLab(): Promise<TestLab> {
  assertPrerequisites();
  fs.mkdirSync(REGISTRY_DIR, { recursive: true, mode: 0o755 });
  try {
    sweepLeftovers();
  } catch (error) {
    // A leftover that cannot be removed must not stop this run; it has its own names.
    console.warn(`test hosts: sweeping leftovers of earlier runs: ${String(error)}`);
  }
  const runId = registerRun();
  const lab = new Lab(runId);
  try {
    await lab.build();
  } catch (error) {
    await lab.destroy();
    throw error;
  }
  return lab;
}

interface Served {
  endpoint: TestEndpoint;
  daemon: Daemon | undefined;
  /** Where the host keeps its files. */
  dir: string;
  start(): Promise<Daemon>;
  /** Only for SSH hosts: makes a new host key. */
  newHostKey?: () => Promise<HostKey>;
  /** Only for systemd hosts: argv prefix that runs a command inside all the host's namespaces, and its end. */
  enter?: () => string[];
  stopSync?: () => void;
}

class Lab implements TestLab {
  readonly dir: string;
  subnet = '';
  gateway = '';
  keys!: ClientKeys;
  private net!: Subnet;
  private nextIndex = 1;
  private nextPair = 0;
  private destroyed = false;
  private readonly served = new Map<string, Served>();
  private readonly unregisterExitHook: () => void;
  private opensshUsers: Promise<Map<UserRole, TestUser>> | undefined;
  private busyboxUser: Promise<TestUser> | undefined;

  constructor(readonly runId: string) {
    this.dir = names.tempDir(runId);
    this.unregisterExitHook = onProcessExit(() => this.teardownSync());
  }

  async build(): Promise<void> {
    // Not mkdtemp: the name must be derivable from the run id for the sweeper. mkdir
    // fails on an existing name (or a planted link), and the run id is fresh.
    fs.mkdirSync(this.dir, { mode: 0o711 });
    fs.chmodSync(this.dir, 0o711);
    for (const [sub, mode] of [
      ['hosts', 0o700],
      ['authorized_keys', 0o755],
      ['home', 0o755],
      ['bin', 0o755],
    ] as const) {
      fs.mkdirSync(path.join(this.dir, sub), { mode });
    }
    // sshd's privilege separation directory; the package normally makes it at boot.
    fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const [net, keys] = await Promise.all([
      claimFreeSubnet(this.runId),
      generateClientKeys(path.join(this.dir, 'client-keys'), `sutazai-test-${this.runId}`),
    ]);
    this.net = net;
    this.subnet = net.cidr;
    this.gateway = net.gateway;
    this.keys = keys;
    await Promise.all([createBridge(names.bridge(this.runId), `${net.gateway}/${net.prefixLength}`), this.installSudoRules()]);
    this.writeAuthorizedKeys('root');
  }

  async addSshHost(options: { login?: SshLogin; sftp?: boolean } = {}): Promise<TestHost> {
    const login = options.login ?? 'root-key';
    const user = await this.userFor(login);
    const slot = this.allocate(login);
    await this.attachToBridge(slot);
    return this.serveOpenssh(slot, login, user, undefined, options.sftp === false ? { sftp: false } : {});
  }

  async addSshHosts(count: number, login: SshLogin = 'root-key'): Promise<TestHost[]> {
    if (!Number.isInteger(count) || count < 1 || count > MAX_HOSTS) throw new Error(`addSshHosts: count must be 1..${MAX_HOSTS}`);
    await this.userFor(login);
    const hosts: TestHost[] = new Array<TestHost>(count);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < count; i = next++) hosts[i] = await this.addSshHost({ login });
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_HOST_STARTS, count) }, worker));
    return hosts;
  }

  async addDropbearHost(): Promise<TestHost> {
    const user = await this.ensureBusyboxUser();
    const slot = this.allocate('dropbear');
    await this.attachToBridge(slot);
    const dir = this.hostDir(slot.namespace);
    const keyPath = path.join(dir, 'dropbear_ed25519_host_key');
    const hostKey = await generateDropbearHostKey(keyPath);
    const host = this.describeHost(slot, 'dropbear', 'busybox-user', user, hostKey);
    await this.serve(
      host,
      dir,
      () => startDropbear({ namespace: slot.namespace, address: slot.address, port: SSH_PORT, dir, hostKeyPath: keyPath }),
      () => generateDropbearHostKey(keyPath),
    );
    return host;
  }

  async addSystemdHost(): Promise<SystemdHost> {
    const slot = this.allocate('systemd');
    await this.attachToBridge(slot);
    const dir = this.hostDir(slot.namespace);
    const keyPath = path.join(dir, 'ssh_host_ed25519_key');
    const hostKey = await generateOpensshHostKey(keyPath);
    const host: SystemdHost = {
      ...this.describeHost(slot, 'openssh', 'root-key', undefined, hostKey),
      init: 'systemd',
      unitDir: unitDirOf(dir),
    };
    let daemon: SystemdDaemon | undefined;
    const start = async () => {
      daemon = await startSystemdHost({
        namespace: slot.namespace,
        address: slot.address,
        port: SSH_PORT,
        dir,
        hostKeyPath: keyPath,
        authorizedKeysDir: path.join(this.dir, 'authorized_keys'),
      });
      return daemon;
    };
    await this.serve(host, dir, start, () => generateOpensshHostKey(keyPath), {
      enter: () => {
        if (daemon === undefined) throw new Error(`${host.name} is not running`);
        return enterHost(daemon.pid1);
      },
      stopSync: () => {
        if (daemon !== undefined) stopSystemdHostSync(daemon.cgroup);
        daemon = undefined;
      },
    });
    return host;
  }

  async addJumpPair(options: { jumpLogin?: SshLogin; targetLogin?: SshLogin } = {}): Promise<{ jump: TestHost; target: TestHost }> {
    const jump = await this.addSshHost({ login: options.jumpLogin ?? 'root-key' });
    const targetLogin = options.targetLogin ?? 'root-key';
    const user = await this.userFor(targetLogin);
    const pair = this.nextPair++;
    if (pair > 255) throw new Error('addJumpPair: at most 256 pairs per lab');
    const slot = this.allocate('target');
    // 198.19.<pair>.0/30 exists only on this link: no route in the root namespace reaches it.
    const targetAddress = `198.19.${pair}.2`;
    await createIsolatedNamespace(slot.namespace);
    await linkNamespaces(
      { namespace: jump.namespace, device: 'hidden0', cidr: `198.19.${pair}.1/30` },
      { namespace: slot.namespace, device: 'jump0', cidr: `${targetAddress}/30` },
    );
    const target = await this.serveOpenssh({ ...slot, address: targetAddress }, targetLogin, user, jump);
    return { jump, target };
  }

  async addTarpitHost(): Promise<TarpitHost> {
    const slot = this.allocate('tarpit');
    await this.attachToBridge(slot);
    const dir = this.hostDir(slot.namespace);
    const host: TarpitHost = {
      kind: 'tarpit',
      name: slot.name,
      address: slot.address,
      port: SSH_PORT,
      namespace: slot.namespace,
      user: 'root',
      privateKeyPath: this.keys.ed25519.path,
      privateKey: this.keys.ed25519.privateKey,
    };
    await this.serve(host, dir, () => startTarpit({ namespace: slot.namespace, address: slot.address, port: SSH_PORT, dir }));
    return host;
  }

  async addControlCenter(options: { reach: readonly TestEndpoint[]; nameserver?: string }): Promise<ControlCenter> {
    for (const endpoint of options.reach) {
      if (!endpoint.address.startsWith(`${this.net.base}.`)) {
        throw new Error(
          `addControlCenter: ${endpoint.name} (${endpoint.address}) is not on the lab's bridge; a jump target is reached through its jump host`,
        );
      }
    }
    const slot = this.allocate('control-center');
    return createControlCenter({
      name: slot.name,
      namespace: slot.namespace,
      bridge: names.bridge(this.runId),
      veth: names.veth(this.runId, slot.index),
      address: slot.address,
      reach: options.reach.map((endpoint) => endpoint.address),
      nameserver: options.nameserver ?? BLACKHOLE_NAMESERVER,
    });
  }

  unreachableAddress(): string {
    // .254 is never handed to a host (they get .2 to .253) and nothing else sits on the bridge.
    return `${this.net.base}.254`;
  }

  async rotateHostKey(host: TestHost): Promise<TestHost> {
    const served = this.servedFor(host);
    if (served.newHostKey === undefined) throw new Error(`${host.name} has no host key`);
    await this.stopHost(host);
    const key = await served.newHostKey();
    host.hostKeyFingerprint = key.fingerprint;
    host.hostPublicKey = key.publicKey;
    await this.startHost(host);
    return host;
  }

  async stopHost(host: TestEndpoint): Promise<void> {
    const served = this.servedFor(host);
    served.stopSync?.();
    const targets = [...(served.daemon ? [-served.daemon.pid] : []), ...pidsInNamespaces([host.namespace])];
    served.daemon = undefined;
    const survivors = await terminate(targets);
    if (survivors.length > 0) throw new Error(`stopHost ${host.name}: still alive after SIGKILL: ${survivors.join(', ')}`);
  }

  async startHost(host: TestEndpoint): Promise<void> {
    const served = this.servedFor(host);
    if (served.daemon !== undefined && !served.daemon.hasExited()) return;
    served.daemon = await served.start();
  }

  exec(host: TestEndpoint, command: string, options: ExecOptions = {}): Promise<CommandResult> {
    this.assertLive();
    const enter = this.served.get(host.namespace)?.enter?.() ?? [IP, 'netns', 'exec', host.namespace];
    return runCommand([...enter, '/bin/sh', '-c', command], {
      input: options.input,
      timeoutMs: options.timeoutMs ?? 15_000,
      okCodes: 'any',
    });
  }

  async destroy(): Promise<void> {
    this.teardownSync();
  }

  // ---- internals

  private teardownSync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.unregisterExitHook();
    const daemonGroups = [...this.served.values()].flatMap((s) => (s.daemon ? [-s.daemon.pid] : []));
    removeRunSync(this.runId, daemonGroups);
  }

  private assertLive(): void {
    if (this.destroyed) throw new Error(`test lab ${this.runId} was destroyed`);
  }

  private allocate(label: string): { index: number; namespace: string; address: string; name: string } {
    this.assertLive();
    const index = this.nextIndex++;
    if (index > MAX_HOSTS) throw new Error(`test lab: at most ${MAX_HOSTS} hosts per lab`);
    return {
      index,
      namespace: names.namespace(this.runId, index),
      // Host n gets .n+1: .1 is the gateway, .254 stays unreachable.
      address: `${this.net.base}.${index + 1}`,
      name: `${label}-${index}`,
    };
  }

  private attachToBridge(slot: { index: number; namespace: string; address: string }): Promise<void> {
    return createHostNamespace({
      namespace: slot.namespace,
      bridge: names.bridge(this.runId),
      veth: names.veth(this.runId, slot.index),
      cidr: `${slot.address}/${this.net.prefixLength}`,
    });
  }

  private hostDir(namespace: string): string {
    const dir = path.join(this.dir, 'hosts', namespace);
    fs.mkdirSync(dir, { mode: 0o700 });
    return dir;
  }

  private async serveOpenssh(
    slot: { namespace: string; address: string; name: string },
    login: SshLogin,
    user: TestUser | undefined,
    jumpHost?: TestHost,
    sshd: { sftp?: boolean } = {},
  ): Promise<TestHost> {
    const dir = this.hostDir(slot.namespace);
    const keyPath = path.join(dir, 'ssh_host_ed25519_key');
    const hostKey = await generateOpensshHostKey(keyPath);
    const host = this.describeHost(slot, 'openssh', login, user, hostKey, jumpHost);
    const start = () =>
      startSshd({
        namespace: slot.namespace,
        address: slot.address,
        port: SSH_PORT,
        dir,
        hostKeyPath: keyPath,
        authorizedKeysDir: path.join(this.dir, 'authorized_keys'),
        ...(jumpHost ? { checkFromNamespace: jumpHost.namespace } : {}),
        ...sshd,
      });
    await this.serve(host, dir, start, () => generateOpensshHostKey(keyPath));
    return host;
  }

  private describeHost(
    slot: { namespace: string; address: string; name: string },
    kind: 'openssh' | 'dropbear',
    login: HostLogin,
    user: TestUser | undefined,
    hostKey: HostKey,
    jumpHost?: TestHost,
  ): TestHost {
    return {
      kind,
      login,
      name: slot.name,
      address: slot.address,
      port: SSH_PORT,
      namespace: slot.namespace,
      user: user?.name ?? 'root',
      ...(user ? { password: user.password } : {}),
      privateKeyPath: this.keys.ed25519.path,
      privateKey: this.keys.ed25519.privateKey,
      encryptedKeyPath: this.keys.encrypted.path,
      passphrase: this.keys.encrypted.passphrase,
      rsaKeyPath: this.keys.rsa.path,
      hostKeyType: hostKey.type,
      hostKeyFingerprint: hostKey.fingerprint,
      hostPublicKey: hostKey.publicKey,
      ...(jumpHost ? { jumpHost } : {}),
    };
  }

  private async serve(
    endpoint: TestEndpoint,
    dir: string,
    start: () => Promise<Daemon>,
    newHostKey?: () => Promise<HostKey>,
    systemd?: Pick<Served, 'enter' | 'stopSync'>,
  ): Promise<void> {
    const served: Served = { endpoint, daemon: undefined, dir, start, ...(newHostKey ? { newHostKey } : {}), ...systemd };
    this.served.set(endpoint.namespace, served);
    served.daemon = await start();
  }

  private servedFor(host: TestEndpoint): Served {
    this.assertLive();
    const served = this.served.get(host.namespace);
    if (served === undefined) throw new Error(`${host.name} is not a host of test lab ${this.runId}`);
    return served;
  }

  private async userFor(login: SshLogin): Promise<TestUser | undefined> {
    if (login === 'root-key') return undefined;
    this.opensshUsers ??= this.createOpensshUsers();
    const user = (await this.opensshUsers).get(login);
    if (user === undefined) throw new Error(`no test user for login ${login}`);
    return user;
  }

  private async createOpensshUsers(): Promise<Map<UserRole, TestUser>> {
    const users = new Map<UserRole, TestUser>();
    for (const role of ['sudo-nopasswd', 'sudo-password', 'no-sudo'] as const) {
      const name = names.user(this.runId, role);
      users.set(role, await createUser({ name, home: path.join(this.dir, 'home', name), shell: '/bin/bash' }));
      this.writeAuthorizedKeys(name);
    }
    return users;
  }

  /** Installed up front for every user the run may make, so it never has to change. */
  private async installSudoRules(): Promise<void> {
    const user = (role: UserRole) => names.user(this.runId, role);
    const rules = [
      { user: user('sudo-nopasswd'), passwordRequired: false },
      { user: user('sudo-password'), passwordRequired: true },
    ];
    const everyone = (Object.keys(USER_ROLES) as UserRole[]).map(user);
    await installSudoers(names.sudoersFile(this.runId), renderSudoers(rules, everyone));
  }

  private ensureBusyboxUser(): Promise<TestUser> {
    this.busyboxUser ??= (async () => {
      // A link named `sh`: busybox picks its applet from argv[0], and Dropbear runs the
      // login shell as `sh -c ...` (basename of the shell path).
      const shell = names.busyboxShell(this.runId);
      fs.symlinkSync(BUSYBOX, shell);
      await addShell(shell);
      const name = names.user(this.runId, 'busybox');
      const user = await createUser({ name, home: path.join(this.dir, 'home', name), shell });
      // Dropbear reads ~/.ssh/authorized_keys only, and wants it private to the user.
      const sshDir = path.join(user.home, '.ssh');
      fs.mkdirSync(sshDir, { mode: 0o700 });
      fs.writeFileSync(path.join(sshDir, 'authorized_keys'), authorizedKeysFor(this.keys), { mode: 0o600 });
      fs.chownSync(sshDir, user.uid, user.gid);
      fs.chownSync(path.join(sshDir, 'authorized_keys'), user.uid, user.gid);
      return user;
    })();
    return this.busyboxUser;
  }

  private writeAuthorizedKeys(user: string): void {
    // Root-owned and world-readable: sshd reads it with the user's privileges.
    fs.writeFileSync(path.join(this.dir, 'authorized_keys', user), authorizedKeysFor(this.keys), { mode: 0o644 });
  }
}
