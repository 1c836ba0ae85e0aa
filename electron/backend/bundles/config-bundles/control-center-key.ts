import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { SecretVault } from '../../secrets/secret-vault';
import type { ExporterKeysRepo } from '../../store/exporter-keys-repo';
import { keyFingerprint, rawPublicKey } from '../bundle-signature';

/** Purpose of the vault secret that holds the key (bound into its seal). */
const PURPOSE = 'control-center-signing-key';

export interface ControlCenterKey {
  fingerprint: string;
  publicKey: Buffer;
  privateKey: KeyObject;
}

/**
 * This control center's Ed25519 key for signing configuration bundles, made at its first
 * export and kept: its private part sealed in the vault (so the vault must be open to
 * export), its public part in clear for the fingerprint the operator reads out to importers.
 */
export function controlCenterKey(repo: ExporterKeysRepo, vault: SecretVault, now: number): ControlCenterKey {
  const existing = repo.own();
  if (existing) {
    const privateKey = createPrivateKey(vault.reveal(existing.privateSecretId, PURPOSE));
    return { fingerprint: existing.fingerprint, publicKey: existing.publicKey, privateKey };
  }
  vault.requireUnlocked();
  const { privateKey } = generateKeyPairSync('ed25519');
  const publicKey = rawPublicKey(privateKey);
  const secretId = vault.store(PURPOSE, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), now);
  const fingerprint = keyFingerprint(publicKey);
  if (!repo.setOwn({ publicKey, fingerprint, privateSecretId: secretId, createdAt: now })) {
    // Another process made one at the same moment: theirs is the key, ours is dropped.
    vault.remove(secretId);
    return controlCenterKey(repo, vault, now);
  }
  return { fingerprint, publicKey, privateKey };
}
