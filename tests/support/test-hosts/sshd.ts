import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, type Daemon } from './daemon';
import { waitForSshBanner } from './wait-for-server';

// One OpenSSH server per host, configured from scratch (the machine's /etc/ssh/sshd_config
// is not read), so that every path it uses is inside the run's temp dir.

export const SSHD = '/usr/sbin/sshd';

export interface SshdSpec {
  namespace: string;
  address: string;
  port: number;
  /** The host's own directory (config, pid file, log). */
  dir: string;
  hostKeyPath: string;
  /** Directory holding one authorized_keys file per user, named after the user. */
  authorizedKeysDir: string;
  /** Check readiness from this namespace (a jump host) instead of the root namespace. */
  checkFromNamespace?: string;
  /** false: no sftp subsystem, as on servers hardened by turning it off. */
  sftp?: boolean;
}

export function renderSshdConfig(spec: SshdSpec): string {
  return [
    '# SutazAI test-host harness (OpenSSH 9.2): only what this file says applies.',
    `ListenAddress ${spec.address}:${spec.port}`,
    `HostKey ${spec.hostKeyPath}`,
    `PidFile ${path.join(spec.dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${spec.authorizedKeysDir}/%u`,
    // The key files sit under /tmp, which is world-writable: StrictModes would refuse them.
    'StrictModes no',
    // Passwords are checked against /etc/shadow directly; PAM session modules such as
    // pam_loginuid fail in containers and are not what these tests are about.
    'UsePAM no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication yes',
    'KbdInteractiveAuthentication no',
    'PermitEmptyPasswords no',
    'PermitRootLogin prohibit-password',
    'AllowTcpForwarding yes',
    'X11Forwarding no',
    'PrintMotd no',
    'PrintLastLog no',
    'UseDNS no',
    // Benchmarks open many connections at once; the default 10:30:100 would drop some.
    'MaxStartups 100:30:300',
    'MaxSessions 64',
    'LoginGraceTime 30',
    ...(spec.sftp === false ? ['# No sftp subsystem: a subsystem request is refused.'] : ['Subsystem sftp internal-sftp']),
    'LogLevel VERBOSE',
    '',
  ].join('\n');
}

export async function startSshd(spec: SshdSpec): Promise<Daemon> {
  const config = path.join(spec.dir, 'sshd_config');
  fs.writeFileSync(config, renderSshdConfig(spec), { mode: 0o600 });
  // -D: stay in the foreground (our child); -e: log to stderr, which is the log file.
  const daemon = startDaemon(spec.namespace, [SSHD, '-D', '-e', '-f', config], path.join(spec.dir, 'sshd.log'));
  await waitForSshBanner(spec.address, spec.port, daemon, spec.checkFromNamespace ? { fromNamespace: spec.checkFromNamespace } : {});
  return daemon;
}
