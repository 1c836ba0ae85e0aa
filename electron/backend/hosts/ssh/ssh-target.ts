import type { PinnedHostKey } from './check-host-key';

/**
 * How to log in. Secrets stay in this object until the server has proved its host key
 * and ssh2 asks for them (see `open-ssh-hop.ts`); they are never logged.
 */
export type SshCredentials =
  | { method: 'key'; keyPath: string; passphrase?: string }
  /** The private key's text, unsealed from the vault (a key sent as text: web mode has no file to name). */
  | { method: 'keyText'; privateKey: string; passphrase?: string }
  /** `agentSocket` defaults to SSH_AUTH_SOCK. */
  | { method: 'agent'; agentSocket?: string }
  | { method: 'password'; password: string };

export interface SshTarget {
  hostId: number;
  name: string;
  address: string;
  port: number;
  user: string;
  credentials: SshCredentials;
  /** Null until the operator confirmed the key: such a host is refused before login. */
  pinned: PinnedHostKey | null;
  /** Reached through this host (itself pinned and logged into) when set. */
  jump: SshTarget | null;
}
