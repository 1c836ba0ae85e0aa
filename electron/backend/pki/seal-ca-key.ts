import type { SecretVault } from '../secrets/secret-vault';
import { checkKeyMatchesCertificate } from './check-certificate';
import type { InstallCa } from './install-ca';

/**
 * The CA's private key exists in clear only in memory while it signs: at rest it is a
 * secret of the vault (AES-256-GCM under the OS secret store or the operator's
 * passphrase), sealed for the purpose `install-ca-key:<install>`. The vault binds the
 * row id and purpose into the seal, so sealed bytes moved into another row do not open;
 * unsealing also names the purpose it expects and checks the key against the CA
 * certificate, so a mixed-up id cannot pass off another secret as this CA's key.
 *
 * The vault hands out the row id; the install's row (a later table) keeps it beside the
 * CA certificate, which is public and stored in clear.
 */
export function caKeyPurpose(installName: string): string {
  return `install-ca-key:${installName}`;
}

/** Seals the CA key and returns the vault's secret id. Refuses a key that is not the CA's. */
export function sealCaKey(vault: SecretVault, installName: string, ca: InstallCa, now: number = Date.now()): number {
  checkKeyMatchesCertificate(ca.certPem, ca.keyPem, 'CA certificate');
  return vault.store(caKeyPurpose(installName), ca.keyPem, now);
}

/** The CA with its key, unsealed for signing. Throws SECRETS_LOCKED or PKI_KEY_MISMATCH. */
export function unsealCaKey(vault: SecretVault, secretId: number, installName: string, caCertPem: string): InstallCa {
  const keyPem = vault.reveal(secretId, caKeyPurpose(installName));
  checkKeyMatchesCertificate(caCertPem, keyPem, 'CA certificate');
  return { certPem: caCertPem, keyPem };
}
