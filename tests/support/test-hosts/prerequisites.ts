import fs from 'node:fs';

// What the harness needs from the machine, checked before it touches anything, so a
// missing piece is one clear error rather than a failure halfway through a build-up.

export const REQUIRED_BINARIES: readonly { path: string; pkg: string }[] = [
  { path: '/usr/sbin/sshd', pkg: 'openssh-server' },
  { path: '/usr/bin/ssh-keygen', pkg: 'openssh-client' },
  { path: '/usr/sbin/dropbear', pkg: 'dropbear-bin' },
  { path: '/usr/bin/dropbearkey', pkg: 'dropbear-bin' },
  { path: '/usr/bin/busybox', pkg: 'busybox' },
  { path: '/usr/bin/sudo', pkg: 'sudo' },
  { path: '/usr/sbin/visudo', pkg: 'sudo' },
  { path: '/usr/sbin/ip', pkg: 'iproute2' },
  { path: '/usr/sbin/useradd', pkg: 'passwd' },
  { path: '/usr/sbin/userdel', pkg: 'passwd' },
  { path: '/usr/sbin/chpasswd', pkg: 'passwd' },
  { path: '/usr/bin/getent', pkg: 'libc-bin' },
  { path: '/usr/bin/flock', pkg: 'util-linux' },
];

export class TestLabPrerequisiteError extends Error {
  constructor(
    readonly missing: readonly string[],
    readonly remedy: string,
  ) {
    super(`test hosts cannot be built: ${missing.join('; ')}. Remedy: ${remedy}`);
    this.name = 'TestLabPrerequisiteError';
  }
}

/** Throws TestLabPrerequisiteError naming everything missing; `binaries` is for the self-test. */
export function assertPrerequisites(binaries = REQUIRED_BINARIES): void {
  if (process.platform !== 'linux') {
    throw new TestLabPrerequisiteError([`Linux network namespaces (this is ${process.platform})`], 'run the integration tests on Linux');
  }
  if (process.getuid?.() !== 0) {
    throw new TestLabPrerequisiteError(
      [`root (running as uid ${process.getuid?.()}): namespaces, users and daemons on port 22 need it`],
      'run the integration tests as root, e.g. in the CI container or with `sudo -E npx vitest run --project integration`',
    );
  }
  const missing = binaries.filter((b) => !isExecutable(b.path));
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((b) => b.pkg))];
    throw new TestLabPrerequisiteError(
      missing.map((b) => `${b.path} (package ${b.pkg})`),
      `as root: apt-get install -y ${packages.join(' ')}`,
    );
  }
  // With UsePAM no, sshd refuses every login, keys included, to an account whose password
  // field starts with '!' (locked).
  const rootHash = readRootShadowField();
  if (rootHash !== undefined && rootHash.startsWith('!')) {
    throw new TestLabPrerequisiteError(
      ["a usable root account: root's password is locked ('!' in /etc/shadow), so sshd refuses even key logins as root"],
      "as root: usermod -p '*' root (no password, not locked)",
    );
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

function readRootShadowField(): string | undefined {
  try {
    const line = fs
      .readFileSync('/etc/shadow', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('root:'));
    return line?.split(':')[1];
  } catch {
    return undefined;
  }
}
