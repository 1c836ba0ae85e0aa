/**
 * The site's OpenID Connect provider as people sign in to the control center through it
 * (issue 14, item 5): `sign-in-provider.yaml` in the data directory, read at start. The
 * install configurations' `oauth2` sections are what runtimes check tokens against; this
 * file is the control center's own sign-in, one provider for the whole control center.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ApiError } from '../../contract';

export const SIGN_IN_PROVIDER_FILE = 'sign-in-provider.yaml';

/** Largest settings file read: a few lines in practice. */
const MAX_SETTINGS_BYTES = 64 * 1024;

const SettingsSchema = z
  .object({
    /** What the sign-in button says: "Sign in with <display_name>". */
    display_name: z.string().min(1).max(64),
    issuer: z.string().url(),
    client_id: z.string().min(1).max(256),
    /** A confidential client's secret, read from this file (never written in the settings themselves); PKCE is used either way. */
    client_secret_file: z.string().min(1).optional(),
    /** PEM of the CA the provider's HTTPS certificate is from, when it is not one Node trusts. */
    ca_file: z.string().min(1).optional(),
    scopes: z
      .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'a scope is printable ASCII without spaces, quotes or backslashes'))
      .default(['openid', 'profile'])
      .refine((scopes) => scopes.includes('openid'), 'the scopes must include openid'),
    /** The ID token claim naming the operator (an operator of that name must exist and be enabled). */
    operator_claim: z.string().min(1).max(64).default('preferred_username'),
    algorithms: z
      .array(z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']))
      .min(1)
      .default(['RS256', 'ES256']),
    /**
     * `amr` values (RFC 8176) that show the provider asked for a second factor: such a
     * sign-in (within max_age, oidc-sign-in.ts) stands for the control center's own
     * two-factor code. Only `mfa` by default: `otp`, `hwk` and `sc` each name one method,
     * which may have been the only one. Empty: the provider's sign-in never does, and an
     * operator with two-factor sign-in signs in with the password form.
     */
    multi_factor_amr: z.array(z.string().min(1).max(64)).default(['mfa']),
    /** Audiences besides client_id an ID token may also name (none by default: a token for several clients is refused). */
    trusted_audiences: z.array(z.string().min(1).max(256)).default([]),
  })
  .strict();

/** The file's settings, `client_secret_file` and `ca_file` made absolute (relative ones are the data directory's) and read. */
export type SignInProviderSettings = z.infer<typeof SettingsSchema> & { client_secret?: string; ca_pem?: string };

/** Largest client secret or CA file read (a CA bundle of a few certificates; a secret of a line). */
const MAX_SIDE_FILE_BYTES = 256 * 1024;

/**
 * Reads a file the settings name, as a plain file of at most MAX_SIDE_FILE_BYTES: a FIFO
 * would block the start and /dev/zero would eat memory. Opened once and checked through the
 * descriptor, so the file checked is the file read.
 */
function readSideFile(file: string): string {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new Error('it is not a plain file');
    if (stat.size > MAX_SIDE_FILE_BYTES) throw new Error(`it is larger than ${MAX_SIDE_FILE_BYTES} bytes`);
    const buffer = Buffer.alloc(stat.size);
    let read = 0;
    while (read < stat.size) {
      const n = fs.readSync(fd, buffer, read, stat.size - read, read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** The outcome of reading the file: none (provider sign-in off), the settings, or why they are unusable. */
export type SignInProviderConfig =
  { kind: 'none' } | { kind: 'ok'; settings: SignInProviderSettings } | { kind: 'invalid'; problem: ApiError };

function invalid(file: string, detail: string): SignInProviderConfig {
  return {
    kind: 'invalid',
    problem: new ApiError(
      'OIDC_SIGN_IN_NOT_CONFIGURED',
      `Sign-in through the site's provider is off: ${file} ${detail}`,
      `Fix ${SIGN_IN_PROVIDER_FILE} in the data directory (README, "Signing in through the site's OpenID Connect provider") and restart; signing in with a password works meanwhile.`,
    ),
  };
}

/** Reads `sign-in-provider.yaml` from `dataDir`; a missing file is provider sign-in off, a broken one refuses it with the reason. */
export function readSignInProvider(dataDir: string): SignInProviderConfig {
  const file = path.join(dataDir, SIGN_IN_PROVIDER_FILE);
  let text: string;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) return invalid(file, 'is not a plain file.');
    if (stat.size > MAX_SETTINGS_BYTES) return invalid(file, `is larger than ${MAX_SETTINGS_BYTES} bytes.`);
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
    return invalid(file, `could not be read: ${(error as Error).message}.`);
  }
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const syntax = document.errors[0];
  if (syntax) {
    const at = syntax.linePos?.[0];
    return invalid(`${file}${at ? `:${at.line}:${at.col}` : ''}`, `is not valid YAML: ${syntax.message.split('\n')[0]}.`);
  }
  const parsed = SettingsSchema.safeParse(document.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join('.');
    const node = issue.path.length > 0 ? document.getIn(issue.path, true) : null;
    const range = (node as { range?: [number, number, number] } | null)?.range;
    const line = range ? text.slice(0, range[0]).split('\n').length : undefined;
    return invalid(`${file}${line !== undefined ? `:${line}` : ''}`, `${key === '' ? 'as a whole' : `key ${key}`}: ${issue.message}.`);
  }
  const settings: SignInProviderSettings = { ...parsed.data };
  // Relative to the data directory, never to whatever folder the process was started from.
  if (settings.client_secret_file !== undefined) settings.client_secret_file = path.resolve(dataDir, settings.client_secret_file);
  if (settings.ca_file !== undefined) settings.ca_file = path.resolve(dataDir, settings.ca_file);
  if (settings.client_secret_file !== undefined) {
    try {
      settings.client_secret = readSideFile(settings.client_secret_file).trim();
    } catch (error) {
      return invalid(
        file,
        `names client_secret_file ${settings.client_secret_file}, which could not be read: ${(error as Error).message}.`,
      );
    }
    if (settings.client_secret === '') return invalid(file, `names client_secret_file ${settings.client_secret_file}, which is empty.`);
  }
  if (settings.ca_file !== undefined) {
    try {
      settings.ca_pem = readSideFile(settings.ca_file);
    } catch (error) {
      return invalid(file, `names ca_file ${settings.ca_file}, which could not be read: ${(error as Error).message}.`);
    }
    if (!settings.ca_pem.includes('-----BEGIN CERTIFICATE-----'))
      return invalid(file, `names ca_file ${settings.ca_file}, which holds no PEM certificate.`);
  }
  return { kind: 'ok', settings };
}
