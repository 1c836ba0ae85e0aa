import { randomInt } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';

// Every system object a harness run makes carries `szt` + the run id, so the sweeper can
// tell whose it is and whether that run is still alive. Interface names must fit in 15
// bytes (IFNAMSIZ), user names in 32: `szt` + 5 + `v` + up to 3 digits = 12.

export const PREFIX = 'szt';
export const RUN_ID_LENGTH = 5;
const RUN_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const RUN_ID = `[a-z0-9]{${RUN_ID_LENGTH}}`;

/** The roles of the users a run creates; the suffix is the user name's last two letters. */
export const USER_ROLES = {
  'sudo-nopasswd': 'np',
  'sudo-password': 'pw',
  'no-sudo': 'ns',
  busybox: 'bb',
} as const;
export type UserRole = keyof typeof USER_ROLES;

/** The most hosts (namespaces) one run may make: addresses .2 to .253 of its /24. */
export const MAX_HOSTS = 252;

export function newRunId(): string {
  let id = '';
  // The first character is a letter so that every name stays a valid user name.
  id += RUN_ID_ALPHABET[randomInt(26)];
  for (let i = 1; i < RUN_ID_LENGTH; i++) id += RUN_ID_ALPHABET[randomInt(RUN_ID_ALPHABET.length)];
  return id;
}

export const names = {
  namespace: (runId: string, n: number) => `${PREFIX}${runId}${n}`,
  bridge: (runId: string) => `${PREFIX}${runId}br`,
  /** The root-namespace end of a host's veth into the bridge. */
  veth: (runId: string, n: number) => `${PREFIX}${runId}v${n}`,
  user: (runId: string, role: UserRole) => `${PREFIX}${runId}${USER_ROLES[role]}`,
  sudoersFile: (runId: string) => `/etc/sudoers.d/${PREFIX}${runId}`,
  tempDir: (runId: string) => path.join(os.tmpdir(), `${PREFIX}${runId}`),
  /** The BusyBox login shell: a link named `sh` so that busybox runs its sh applet. */
  busyboxShell: (runId: string) => path.join(os.tmpdir(), `${PREFIX}${runId}`, 'bin', 'sh'),
};

/** Recognisers: each returns the run id of a name the harness made, or undefined. */
export const parseRunId = {
  namespace: match(new RegExp(`^${PREFIX}(${RUN_ID})\\d{1,3}$`)),
  bridge: match(new RegExp(`^${PREFIX}(${RUN_ID})br$`)),
  veth: match(new RegExp(`^${PREFIX}(${RUN_ID})v\\d{1,3}$`)),
  user: match(new RegExp(`^${PREFIX}(${RUN_ID})(?:${Object.values(USER_ROLES).join('|')})$`)),
  sudoersFile: match(new RegExp(`^${PREFIX}(${RUN_ID})$`)),
  tempDir: match(new RegExp(`^${PREFIX}(${RUN_ID})$`)),
  shellsLine: match(new RegExp(`^/.*/${PREFIX}(${RUN_ID})/bin/sh$`)),
};

function match(pattern: RegExp): (name: string) => string | undefined {
  return (name) => pattern.exec(name)?.[1];
}
