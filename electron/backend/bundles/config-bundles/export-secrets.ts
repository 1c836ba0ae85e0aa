import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { CURRENT_KDF, deriveKey, kdfText, parseKdf } from '../../secrets/passphrase-kdf';
import { open, seal } from '../../secrets/sealed-box';
import type { ExportedSecrets } from './config-document';
import { configBundleDamagedError, configExportPassphraseWeakError, configPassphraseWrongError } from './config-bundle-errors';

/**
 * An export's secrets, sealed to a passphrase the operator chooses for this file: scrypt
 * with the vault's own parameters (128 MiB a guess) and AES-256-GCM, the vault's sealed box.
 * The clear values exist only in memory, between the vault and this seal.
 */
export const MIN_EXPORT_PASSPHRASE_LENGTH = 12;
const ASSOCIATED = 'sutazai-config-secrets-v1';

/**
 * The seal is bound to the configuration it was exported with (its config.yaml's SHA-256 as
 * associated data): the secrets are named by host and install, and the same sealed file
 * beside another configuration (another export, another exporter's file) would hand a
 * host's password to whatever address that configuration gives the name. It does not open there.
 */
function associatedData(configText: string): string {
  return `${ASSOCIATED}\n${createHash('sha256').update(configText, 'utf8').digest('hex')}`;
}
/**
 * What a file's parameters may cost us before the passphrase is even tried: twice an export's
 * memory (256 MiB) and four times its work. The vault's stored-row bounds (up to 16 GiB) are
 * for our own database; these come from a file anyone can write, and are read before its
 * exporter is trusted.
 */
const MAX_FILE_KDF_MEMORY = 2 * 128 * CURRENT_KDF.N * CURRENT_KDF.r;
const MAX_FILE_KDF_WORK = 4 * CURRENT_KDF.N * CURRENT_KDF.r * CURRENT_KDF.p;

/**
 * `names` lists what is sealed (never a value), so a review without the passphrase can say
 * which items carry secrets it did not compare; a bundle's signature covers it, and opening
 * checks it against what the seal holds. Absent in files written before it was added.
 */
const SealedSecretsSchema = z
  .object({ kdf: z.string(), salt: z.string(), sealed: z.string(), names: z.array(z.string().max(1000)).max(100_000).optional() })
  .strict();

/** The names of the sealed secrets, read without the passphrase; null when the file predates them. */
export function sealedSecretNames(text: string, file: string): string[] | null {
  return parseSealed(text, file).names ?? null;
}

function parseSealed(text: string, file: string): z.infer<typeof SealedSecretsSchema> {
  try {
    return SealedSecretsSchema.parse(JSON.parse(text));
  } catch {
    throw configBundleDamagedError(file, 'secrets.json is malformed');
  }
}

export async function sealExportSecrets(secrets: ExportedSecrets, passphrase: string, configText: string): Promise<string> {
  const length = [...passphrase.normalize('NFC')].length;
  if (length < MIN_EXPORT_PASSPHRASE_LENGTH) throw configExportPassphraseWeakError(length, MIN_EXPORT_PASSPHRASE_LENGTH);
  const salt = randomBytes(16);
  const key = await deriveKey(passphrase, salt, CURRENT_KDF);
  // Sorted, so what is sealed does not depend on the order the store was read in.
  const sorted = Object.fromEntries(Object.entries(secrets).sort(([a], [b]) => a.localeCompare(b)));
  const sealed = seal(key, JSON.stringify(sorted), associatedData(configText));
  const envelope = {
    kdf: kdfText(CURRENT_KDF),
    salt: salt.toString('base64'),
    sealed: sealed.toString('base64'),
    names: Object.keys(sorted),
  };
  return `${JSON.stringify(envelope, null, 2)}\n`;
}

export async function openExportSecrets(text: string, passphrase: string, file: string, configText: string): Promise<ExportedSecrets> {
  const parsed = parseSealed(text, file);
  const params = parseKdf(parsed.kdf);
  if (params !== null && (128 * params.N * params.r > MAX_FILE_KDF_MEMORY || params.N * params.r * params.p > MAX_FILE_KDF_WORK))
    throw configBundleDamagedError(file, 'secrets.json asks for key-stretching costlier than any export uses');
  if (params === null) throw configBundleDamagedError(file, 'secrets.json names key-stretching parameters this version cannot use');
  const key = await deriveKey(passphrase, Buffer.from(parsed.salt, 'base64'), params);
  const clear = open(key, Buffer.from(parsed.sealed, 'base64'), associatedData(configText));
  if (clear === null) throw configPassphraseWrongError(file);
  let value;
  try {
    value = z.record(z.string(), z.string()).safeParse(JSON.parse(clear));
  } catch {
    value = { success: false as const };
  }
  if (!value.success) throw configBundleDamagedError(file, 'secrets.json opens to something other than named secrets');
  const sealedNames = Object.keys(value.data).sort();
  if (parsed.names !== undefined && [...parsed.names].sort().join('\n') !== sealedNames.join('\n'))
    throw configBundleDamagedError(file, 'the names secrets.json lists are not the secrets it seals');
  return value.data;
}
