import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import { z } from 'zod';
import { FINGERPRINT_PATTERN, keyFingerprint, publicKeyFromRaw } from '../bundle-signature';
import { readTar } from '../tar-reader';
import { TarWriter } from '../tar-writer';
import { CONFIG_DOCUMENT_FORMAT } from './config-document';
import {
  configBundleDamagedError,
  configBundleTooLargeError,
  configExportUnwritableError,
  configFileUnreadableError,
  configFormatNewerError,
} from './config-bundle-errors';

/**
 * A `.sutazai-config` file: a ustar archive (the release bundles' tar writer and reader) of
 *
 *   manifest.json       format, scope, the exporter's public key, the SHA-256 of each file below
 *   config.yaml         the configuration document, exactly as the YAML export writes it
 *   secrets.json        only when asked: the secrets sealed to an export passphrase
 *   signature.ed25519   Ed25519 over "sutazai-config-bundle-v1\n" and manifest.json's bytes
 *
 * The signature covers the manifest, the manifest the hash of every other file, so one
 * flipped byte anywhere is refused. Entries carry mtime 0 and Ed25519 signs
 * deterministically: the same store exported twice by the same control center is the same file.
 */
export const CONFIG_BUNDLE_EXTENSION = '.sutazai-config';
export const CONFIG_FILE_MAX_BYTES = 32 * 1024 * 1024;
const DOMAIN = Buffer.from('sutazai-config-bundle-v1\n', 'latin1');
const ENTRIES = ['manifest.json', 'config.yaml', 'secrets.json', 'signature.ed25519'] as const;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);

const ManifestSchema = z
  .object({
    format: z.literal(CONFIG_DOCUMENT_FORMAT),
    kind: z.literal('sutazai-config'),
    scope: z.object({ install: z.string().nullable() }).strict(),
    exporter: z
      .object({
        fingerprint: z.string().regex(FINGERPRINT_PATTERN),
        publicKey: z.string(),
        /** The exporter's own name for itself: a hint for people, proof of nothing. */
        label: z.string().max(200),
      })
      .strict(),
    files: z.object({ 'config.yaml': Sha256, 'secrets.json': Sha256.optional() }).strict(),
  })
  .strict();
export type ConfigBundleManifest = z.infer<typeof ManifestSchema>;

export interface ExporterIdentity {
  fingerprint: string;
  publicKey: Buffer;
  label: string;
}

/** What a configuration file held: a signed bundle, or a plain YAML export (unsigned: the operator's own file). */
export type ConfigFile =
  | {
      kind: 'bundle';
      file: string;
      configText: string;
      secretsText: string | null;
      exporter: ExporterIdentity;
      scope: { install: string | null };
      /** Of the whole file as read: an import names the one its review reported. */
      sha256: string;
    }
  | { kind: 'yaml'; file: string; configText: string; sha256: string };

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

export async function configBundleBytes(input: {
  configText: string;
  secretsText: string | null;
  scope: { install: string | null };
  exporter: ExporterIdentity;
  privateKey: KeyObject;
}): Promise<Buffer> {
  const config = Buffer.from(input.configText, 'utf8');
  const secrets = input.secretsText === null ? null : Buffer.from(input.secretsText, 'utf8');
  const manifest: ConfigBundleManifest = {
    format: CONFIG_DOCUMENT_FORMAT,
    kind: 'sutazai-config',
    scope: input.scope,
    exporter: {
      fingerprint: input.exporter.fingerprint,
      publicKey: input.exporter.publicKey.toString('base64'),
      label: input.exporter.label,
    },
    files: { 'config.yaml': sha256(config), ...(secrets ? { 'secrets.json': sha256(secrets) } : {}) },
  };
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
  const signature = Buffer.from(`${sign(null, Buffer.concat([DOMAIN, manifestBytes]), input.privateKey).toString('base64')}\n`, 'latin1');
  const chunks: Buffer[] = [];
  const tar = new TarWriter(async (chunk) => void chunks.push(Buffer.from(chunk)));
  const add = (name: string, bytes: Buffer) => tar.addFile(name, { mode: 0o600, mtime: 0, size: bytes.length }, bytes);
  await add('manifest.json', manifestBytes);
  await add('config.yaml', config);
  if (secrets) await add('secrets.json', secrets);
  await add('signature.ed25519', signature);
  await tar.finish();
  return Buffer.concat(chunks);
}

/** Writes an export: never over an existing file, readable by its owner only (it may hold sealed secrets). */
export function writeExportFile(file: string, bytes: Buffer | string): void {
  try {
    fs.writeFileSync(file, bytes, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    throw configExportUnwritableError(file, error);
  }
}

/** Reads a configuration file of either kind; a bundle's archive, hashes and signature are checked, its exporter's trust is not. */
export async function readConfigFile(file: string): Promise<ConfigFile> {
  const bytes = readBounded(file);
  // A ustar archive says so at offset 257; anything else is read as a YAML export.
  if (bytes.length >= 262 && bytes.subarray(257, 262).toString('latin1') === 'ustar')
    return { ...(await readBundle(file, bytes)), sha256: sha256(bytes) };
  if (file.endsWith(CONFIG_BUNDLE_EXTENSION)) throw configBundleDamagedError(file, 'it is not an archive (its header is missing)');
  return { kind: 'yaml', file, configText: bytes.toString('utf8'), sha256: sha256(bytes) };
}

/**
 * The file's bytes, never more than the limit however the file answers: a pipe or a device
 * (its size says 0, then it never ends) is refused, and so is a file that grows past the
 * limit while it is read. Opened without blocking, so a pipe nobody writes to cannot hold
 * the backend's thread.
 */
function readBounded(file: string): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    throw configFileUnreadableError(file, error);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (stat.isDirectory()) throw configFileUnreadableError(file, 'it is a directory');
    if (!stat.isFile()) throw configFileUnreadableError(file, 'it is not a plain file (a pipe or a device)');
    if (stat.size > CONFIG_FILE_MAX_BYTES) throw configBundleTooLargeError(file, stat.size, CONFIG_FILE_MAX_BYTES);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1024 * 1024, CONFIG_FILE_MAX_BYTES + 1 - total));
      const n = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > CONFIG_FILE_MAX_BYTES) throw configBundleTooLargeError(file, total, CONFIG_FILE_MAX_BYTES);
    }
    return Buffer.concat(chunks, total);
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith('CONFIG_')) throw error;
    throw configFileUnreadableError(file, error);
  } finally {
    fs.closeSync(fd);
  }
}

async function readBundle(file: string, bytes: Buffer): Promise<Omit<Extract<ConfigFile, { kind: 'bundle' }>, 'sha256'>> {
  const entries = new Map<string, Buffer>();
  try {
    for await (const entry of readTar(once(bytes))) {
      if (entry.type !== 'file' || !(ENTRIES as readonly string[]).includes(entry.name) || entries.has(entry.name)) {
        throw configBundleDamagedError(file, `it holds ${entry.name}, which no export writes`);
      }
      const parts: Buffer[] = [];
      for await (const chunk of entry.body) parts.push(chunk);
      entries.set(entry.name, Buffer.concat(parts));
    }
  } catch (error) {
    if ((error as { code?: string }).code === 'CONFIG_BUNDLE_DAMAGED') throw error;
    throw configBundleDamagedError(file, (error as Error).message, error);
  }
  const need = (name: string): Buffer => {
    const found = entries.get(name);
    if (!found) throw configBundleDamagedError(file, `${name} is missing`);
    return found;
  };
  const manifestBytes = need('manifest.json');
  let json: unknown;
  try {
    json = JSON.parse(manifestBytes.toString('utf8'));
  } catch {
    throw configBundleDamagedError(file, 'manifest.json is not JSON');
  }
  const format = (json as { format?: unknown } | null)?.format;
  if (typeof format === 'number' && format > CONFIG_DOCUMENT_FORMAT) throw configFormatNewerError(file, format);
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) throw configBundleDamagedError(file, `manifest.json is malformed (${parsed.error.issues[0]!.path.join('.')})`);
  const manifest = parsed.data;
  const publicKey = Buffer.from(manifest.exporter.publicKey, 'base64');
  if (publicKey.length !== 32 || keyFingerprint(publicKey) !== manifest.exporter.fingerprint) {
    throw configBundleDamagedError(file, "the exporter's key does not match the fingerprint it claims");
  }
  let valid = false;
  try {
    const signature = Buffer.from(need('signature.ed25519').toString('latin1').trim(), 'base64');
    valid = verify(null, Buffer.concat([DOMAIN, manifestBytes]), publicKeyFromRaw(publicKey), signature);
  } catch (error) {
    if ((error as { code?: string }).code === 'CONFIG_BUNDLE_DAMAGED') throw error;
  }
  if (!valid) throw configBundleDamagedError(file, `the signature by ${manifest.exporter.fingerprint} does not match manifest.json`);
  for (const name of entries.keys()) {
    if (name === 'manifest.json' || name === 'signature.ed25519') continue;
    const expected = manifest.files[name as 'config.yaml' | 'secrets.json'];
    if (expected === undefined) throw configBundleDamagedError(file, `${name} is not listed in manifest.json`);
    if (sha256(entries.get(name)!) !== expected)
      throw configBundleDamagedError(file, `${name} does not match its SHA-256 in manifest.json`);
  }
  if (manifest.files['secrets.json'] !== undefined) need('secrets.json');
  return {
    kind: 'bundle',
    file,
    configText: need('config.yaml').toString('utf8'),
    secretsText: entries.get('secrets.json')?.toString('utf8') ?? null,
    exporter: { fingerprint: manifest.exporter.fingerprint, publicKey, label: manifest.exporter.label },
    scope: manifest.scope,
  };
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}
