import { z } from 'zod';
import { OperatorAttributesSchema, OperatorNameSchema, RoleSchema } from '../../../contract';
import { pathProblem } from '../../config/install-config-schema';

/**
 * What a configuration export carries, as one document: the same for the signed
 * `.sutazai-config` bundle (its config.yaml) and the plain YAML export. Names, not row ids,
 * tie the parts together (a host's jump host, an install's hosts), so a document means the
 * same in any data directory. No timestamps and no secrets: secrets travel beside it, sealed.
 */
export const CONFIG_DOCUMENT_FORMAT = 1;

const Name = z.string().min(1).max(200);
/** Raw 32-byte Ed25519 keys and SSH host keys travel as base64. */
const Base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');

export const ExportedHostSchema = z
  .object({
    name: Name,
    address: z.string().min(1).max(253),
    port: z.number().int().min(1).max(65535),
    user: z.string().max(200),
    auth: z.enum(['none', 'key', 'agent', 'password']),
    keyPath: z.string().max(4096).nullable(),
    jump: Name.nullable(),
    role: z.enum(['core', 'agent', 'both']).nullable(),
    labels: z.array(z.string().max(200)),
    hostKey: z
      .object({ type: z.string().min(1), fingerprint: z.string().min(1), publicKey: Base64 })
      .strict()
      .nullable(),
  })
  .strict();
export type ExportedHost = z.infer<typeof ExportedHostSchema>;

const JsonObject = z.record(z.string(), z.unknown());

/**
 * A path on a managed host, as the install engine records it: uninstall removes an install's
 * created paths as root, so one read from a file (anyone's, or edited by hand) is held to the
 * same plain absolute form as the install file's own paths.
 */
const HostPath = z
  .string()
  .max(4096)
  .regex(/^\/./, 'must be an absolute path (starting with /, not / itself)')
  .superRefine((value, ctx) => {
    const problem = pathProblem(value);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: `must be a plain path: it ${problem}` });
  });

/**
 * A release on one host of an install, as host_releases records it (no timestamp: the list
 * is in the store's order, current first, then the newest before it).
 */
export const ExportedReleaseSchema = z
  .object({
    // It names the release's directory on the host (<root>/releases/<version>: what a rollback
    // switches to, a prune removes): one plain name, as a bundle's version is, never a path.
    version: z
      .string()
      .max(200)
      .regex(/^[0-9A-Za-z][0-9A-Za-z._+-]*$/, 'must be a release version (letters, digits, . _ + -)'),
    bundleSha256: z.string().regex(/^[0-9a-f]{64}$/),
    path: HostPath,
    state: z.enum(['current', 'previous', 'failed']),
  })
  .strict();
export type ExportedRelease = z.infer<typeof ExportedReleaseSchema>;

export const ExportedInstallHostSchema = z
  .object({
    host: Name,
    role: z.enum(['core', 'agent', 'both']),
    gpu: z.boolean(),
    state: z.enum(['planned', 'installing', 'installed', 'failed']),
    mode: z.enum(['system', 'user']).nullable(),
    rootDir: HostPath.nullable(),
    service: z.enum(['systemd', 'detached']).nullable(),
    createdPaths: z.array(HostPath),
    config: JsonObject,
    /** Which releases the host has (absent in files written before host releases were exported). */
    releases: z.array(ExportedReleaseSchema).max(100).optional(),
  })
  .strict();

export const ExportedInstallSchema = z
  .object({
    name: Name,
    /** The release bundle, by its file's SHA-256: it must be imported here too (bundles travel on their own). */
    bundle: z.object({ name: z.string(), version: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).strict(),
    installFile: z.string(),
    configSnapshot: JsonObject,
    definition: JsonObject.nullable(),
    caCert: z.string(),
    hosts: z.array(ExportedInstallHostSchema),
  })
  .strict();
export type ExportedInstall = z.infer<typeof ExportedInstallSchema>;

export const ExportedBundleKeySchema = z.object({ fingerprint: z.string().min(1), label: z.string(), publicKey: Base64 }).strict();
export type ExportedBundleKey = z.infer<typeof ExportedBundleKeySchema>;

/**
 * An operator as an export carries it: who, the role and attributes access policies select
 * on, and whether it is disabled. Never a password hash, a TOTP secret or recovery codes:
 * they are credentials of a person, not configuration, and a hash in a file that travels on
 * a USB stick can be guessed at offline; an imported operator gets its password here.
 */
export const ExportedOperatorSchema = z
  .object({ name: OperatorNameSchema, role: RoleSchema, attributes: OperatorAttributesSchema, disabled: z.boolean() })
  .strict();
export type ExportedOperator = z.infer<typeof ExportedOperatorSchema>;

/** One of the site's own rule files (data directory's alerts/ or policies/), as text. */
export const ExportedSiteFileSchema = z
  .object({
    folder: z.enum(['alerts', 'policies']),
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.ya?ml$/, 'a file name ending in .yaml, without a path'),
    text: z.string().max(1024 * 1024),
  })
  .strict();
export type ExportedSiteFile = z.infer<typeof ExportedSiteFileSchema>;

export const ConfigDocumentSchema = z
  .object({
    /** Checked before the rest, so a newer document is refused as newer rather than as invalid. */
    sutazai_config: z.literal(CONFIG_DOCUMENT_FORMAT),
    hosts: z.array(ExportedHostSchema),
    installs: z.array(ExportedInstallSchema),
    bundleSigningKeys: z.array(ExportedBundleKeySchema),
    /** Alert rules and access policies of the site (the data directory's alerts/ and policies/). */
    siteFiles: z.array(ExportedSiteFileSchema),
    /** The control center's operators (absent in files written before operators were exported: then none is touched). */
    operators: z.array(ExportedOperatorSchema).max(10_000).optional(),
  })
  .strict();
export type ConfigDocument = z.infer<typeof ConfigDocumentSchema>;

/**
 * Secrets an export carries when asked, by what they belong to: `host/<name>/login` (a
 * password or key passphrase), `host/<name>/key` (a private key stored as text: its host's
 * keyPath is null), `host/<name>/sudo`, `install/<name>/ca-key`.
 */
export type ExportedSecrets = Record<string, string>;

export const secretName = {
  hostLogin: (host: string) => `host/${host}/login`,
  hostSudo: (host: string) => `host/${host}/sudo`,
  hostKey: (host: string) => `host/${host}/key`,
  installCaKey: (install: string) => `install/${install}/ca-key`,
};
