import { ApiError } from '../../contract';
import type { Role } from '../../../agents-runtime/src/wire';
import { issueControlCenterCertificate } from '../pki/issue-certificate';
import { caKeyMissingError } from '../pki/pki-errors';
import { unsealCaKey } from '../pki/seal-ca-key';
import { UNLOCK_VAULT_REMEDY, type SecretVault } from '../secrets/secret-vault';
import type { InstallHostRow, InstallRow } from '../store/installs-repo';
import type { RuntimeTls } from './runtime-connection';

/**
 * What reaching an install's runtimes takes besides SSH: where each runtime listens on its
 * host, and a client certificate of the install's own CA (its key is sealed in the vault).
 * The health check and the fleet's links both come here, so they reach a runtime alike.
 */

/** Where the runtime listens on the host, from the configuration the last apply wrote there. */
export function runtimeListenOf(host: Pick<InstallHostRow, 'config'>): { address: string; port: number } {
  const config = JSON.parse(host.config) as { runtime?: { listen_address?: unknown; grpc_port?: unknown } };
  const address = typeof config.runtime?.listen_address === 'string' ? config.runtime.listen_address : '127.0.0.1';
  const port = typeof config.runtime?.grpc_port === 'number' ? config.runtime.grpc_port : 7600;
  return { address, port };
}

/** `purpose` (what waits for the vault: `Asking the runtimes of lab`) is refused while the vault is locked. */
export function vaultLockedError(purpose: string, afterUnlock?: string): ApiError {
  return new ApiError(
    'SECRETS_LOCKED',
    `${purpose} needs the install's CA key, and the sealed secrets are locked.`,
    afterUnlock === undefined ? UNLOCK_VAULT_REMEDY : `${UNLOCK_VAULT_REMEDY} ${afterUnlock}`,
  );
}

/**
 * A client certificate of the install's CA for `role`, made now and never stored. Refused
 * with SECRETS_LOCKED while the vault is locked (`purpose` says what waits for it) and with
 * PKI_CA_KEY_MISSING when the install's CA key is gone.
 */
export async function issueInstallClientTls(
  vault: SecretVault,
  install: Pick<InstallRow, 'name' | 'caCert' | 'caKeySecretId'>,
  options: {
    role: Role;
    validityDays: number;
    /** What waits for the vault, to start the refusal: `Asking the runtimes of lab`. */
    purpose: string;
    /** What to do once it is unlocked, after the remedy: `Then check again.` */
    afterUnlock?: string;
  },
): Promise<RuntimeTls> {
  if (!vault.unlocked) throw vaultLockedError(options.purpose, options.afterUnlock);
  if (install.caKeySecretId === null) throw caKeyMissingError(install.name);
  const ca = unsealCaKey(vault, install.caKeySecretId, install.name, install.caCert);
  const client = await issueControlCenterCertificate(ca, {
    role: options.role,
    validityDays: options.validityDays,
  });
  return { caCertPem: ca.certPem, certPem: client.certPem, keyPem: client.keyPem };
}
