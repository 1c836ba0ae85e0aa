import { ApiError } from '../../contract';
import { hostIsLocalError, jumpChainTooLongError, jumpHostGoneError } from './host-errors';
import type { SecretVault } from '../secrets/secret-vault';
import type { HostKeysRepo } from '../store/host-keys-repo';
import type { HostRow, HostsRepo } from '../store/hosts-repo';
import type { SshCredentials, SshTarget } from './ssh/connect-ssh';
import { expandHome } from './ssh/load-private-key';

/**
 * The vault purpose of a private key sent as text: revealed only as that, so a mixed-up id
 * can never hand a password to ssh as a key (or a key to anything else).
 */
export const PRIVATE_KEY_PURPOSE = 'ssh-private-key';

/** Jump chains longer than this are almost certainly a loop someone built by hand. */
export const MAX_JUMP_DEPTH = 4;

export interface TargetDeps {
  hosts: HostsRepo;
  hostKeys: HostKeysRepo;
  vault: SecretVault;
}

/** What connecting to a host needs: its address, pinned key, unsealed credentials, jump chain. */
export function buildSshTarget(deps: TargetDeps, row: HostRow, depth = 0): SshTarget {
  if (row.kind !== 'ssh') throw hostIsLocalError(row.name);
  if (depth > MAX_JUMP_DEPTH) throw jumpChainTooLongError(MAX_JUMP_DEPTH, row.name);
  const jumpRow = row.jumpHostId === null ? null : deps.hosts.get(row.jumpHostId);
  if (row.jumpHostId !== null && !jumpRow) throw jumpHostGoneError(row.name);
  return {
    hostId: row.id,
    name: row.name,
    address: row.address,
    port: row.port,
    user: row.user,
    credentials: credentialsOf(deps.vault, row),
    pinned: deps.hostKeys.get(row.id),
    jump: jumpRow ? buildSshTarget(deps, jumpRow, depth + 1) : null,
  };
}

export function credentialsOf(vault: SecretVault, row: HostRow): SshCredentials {
  switch (row.authMethod) {
    case 'key':
      if (row.keySecretId !== null)
        return {
          method: 'keyText',
          privateKey: vault.reveal(row.keySecretId, PRIVATE_KEY_PURPOSE),
          ...(row.secretId !== null ? { passphrase: vault.reveal(row.secretId) } : {}),
        };
      if (row.keyPath === null) throw noKeyStoredError(row.name);
      return {
        method: 'key',
        keyPath: expandHome(row.keyPath),
        ...(row.secretId !== null ? { passphrase: vault.reveal(row.secretId) } : {}),
      };
    case 'password':
      if (row.secretId === null) {
        throw new ApiError('AUTH_FAILED', `No password is stored for ${row.name}.`, `Set the password in the settings of ${row.name}.`);
      }
      return { method: 'password', password: vault.reveal(row.secretId) };
    case 'agent':
      return { method: 'agent' };
    case 'none':
      throw new ApiError(
        'AUTH_FAILED',
        `Host ${row.name} has no login method.`,
        'Choose key, agent or password authentication in its settings.',
      );
  }
}

/** A key login with neither a key file nor a stored key: an import that left its secrets out. */
function noKeyStoredError(name: string): ApiError {
  return new ApiError(
    'AUTH_FAILED',
    `No private key is stored for ${name}; nothing was sent.`,
    `Give ${name} its private key in its settings (Edit on the host page: paste the key text), or choose another login method.`,
  );
}

/** sudo's password: the one stored for sudo, else the login password, else none. */
export function sudoPasswordOf(vault: SecretVault, row: HostRow): string | undefined {
  if (row.sudoSecretId !== null) return vault.reveal(row.sudoSecretId);
  if (row.authMethod === 'password' && row.secretId !== null) return vault.reveal(row.secretId);
  return undefined;
}
