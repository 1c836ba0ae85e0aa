import path from 'node:path';
import { startDaemon, type Daemon } from './daemon';
import { waitForSshBanner } from './wait-for-server';

// A Dropbear server, the small SSH server of routers and embedded boards. Dropbear reads
// keys from ~/.ssh/authorized_keys only and accepts only users whose shell is listed in
// /etc/shells; the harness arranges both for its BusyBox user.

export const DROPBEAR = '/usr/sbin/dropbear';

export interface DropbearSpec {
  namespace: string;
  address: string;
  port: number;
  dir: string;
  hostKeyPath: string;
}

export async function startDropbear(spec: DropbearSpec): Promise<Daemon> {
  const argv = [
    DROPBEAR,
    '-F', // foreground
    '-E', // log to stderr
    '-m', // no motd
    '-w', // no root login: the BusyBox user is the point of this host
    '-p',
    `${spec.address}:${spec.port}`,
    '-r',
    spec.hostKeyPath,
    // Without -P it would write /var/run/dropbear.pid, shared with the machine's own.
    '-P',
    path.join(spec.dir, 'dropbear.pid'),
  ];
  const daemon = startDaemon(spec.namespace, argv, path.join(spec.dir, 'dropbear.log'));
  await waitForSshBanner(spec.address, spec.port, daemon);
  return daemon;
}
