import fs from 'node:fs';
import path from 'node:path';
import { ApiError, OPERATOR_CERTIFICATE_MAX_HOURS, type ApiClient, type OperatorCertificate } from '../../contract';
import { failurePoint, interruptionPoint } from '../store/failure-point';
import { stagingPrefix, sweepStaleStaging } from './certificate-staging';
import { EXIT } from './exit-codes';
import { formatTable } from './format-text';
import { guardInterruptions, type InterruptionGuard } from './interruption-guard';

export interface CredentialCommandContext {
  args: string[];
  values: Record<string, string | boolean | string[] | undefined>;
  print(text: string, value: unknown): void;
  api(): Promise<ApiClient>;
}

const CERTIFICATE_USAGE =
  'Run `sutazai help`: `operators certificate issue NAME --install I --out DIR [--valid-hours N]`, `list [NAME]`, `revoke SERIAL | --all NAME`.';

function usage(message: string, remedy = CERTIFICATE_USAGE): ApiError {
  return new ApiError('BAD_PARAMS', message, remedy);
}

function stringOption(values: CredentialCommandContext['values'], name: string): string | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw usage(`--${name} needs a value.`);
  return value;
}

/**
 * `sutazai operators certificate issue|list|revoke` (issue 14 item 2, authentication_method:
 * mtls): an operator's own client certificate for an install's runtimes. `issue` writes the
 * certificate, its key (0600) and the install's CA certificate into a folder, never over a
 * file that exists; the key is printed nowhere and kept by no one else.
 */
export async function runOperatorCertificateCommand(ctx: CredentialCommandContext): Promise<number> {
  const [what, ...rest] = ctx.args;
  switch (what) {
    case 'issue': {
      if (rest.length !== 1) throw usage(`\`operators certificate issue\` takes one operator's name (got ${rest.length}).`);
      const install = stringOption(ctx.values, 'install');
      const out = stringOption(ctx.values, 'out');
      if (install === undefined || out === undefined) throw usage('`operators certificate issue` needs --install NAME and --out DIR.');
      const hours = validHours(ctx.values['valid-hours']);
      const folder = path.resolve(out);
      const files = certificateFiles(folder, rest[0]!);
      const api = await ctx.api();
      // A run killed outright left its staging folder, and a certificate whose key is only there: both go now.
      const orphans = await sweepOrphanedCertificates(api, folder);
      // From the request on: a certificate may be issued, and must not outlive a Ctrl+C unrevoked.
      const guard = guardInterruptions('the certificate being issued is revoked and no file of it is left');
      let entry: OperatorCertificate;
      try {
        const issued = await api.call('operators.certificateIssue', {
          name: rest[0]!,
          install,
          ...(hours !== undefined ? { validityHours: hours } : {}),
        });
        const { certPem, keyPem, caCertPem, ...recorded } = issued;
        entry = recorded;
        await placeIssuedFiles(folder, files, { key: keyPem, cert: certPem, ca: caCertPem }, guard, async () => {
          await api.call('operators.certificateRevoke', { serial: recorded.serial });
        });
      } finally {
        guard.release();
      }
      ctx.print(
        [
          ...orphans,
          `Certificate ${entry.serial} for ${entry.operator} (${entry.role}) on ${entry.install}, valid until ${new Date(entry.notAfter).toISOString()}:`,
          `  certificate  ${files.cert}`,
          `  key          ${files.key} (0600: the control center keeps no copy)`,
          `  install CA   ${files.ca}`,
        ].join('\n'),
        { ...entry, files },
      );
      return EXIT.OK;
    }
    case 'list': {
      if (rest.length > 1) throw usage(`\`operators certificate list\` takes at most one operator's name (got ${rest.length}).`);
      const api = await ctx.api();
      const listed = await api.call('operators.certificates', rest[0] === undefined ? {} : { name: rest[0] });
      ctx.print(listed.length === 0 ? 'No operator certificates.' : formatCertificates(listed, Date.now()), listed);
      return EXIT.OK;
    }
    case 'revoke': {
      const all = stringOption(ctx.values, 'all');
      if ((all === undefined) === (rest.length !== 1))
        throw usage('`operators certificate revoke` takes one serial, or --all NAME (one of the two).');
      const api = await ctx.api();
      const { revoked, alreadyRevoked } = await api.call(
        'operators.certificateRevoke',
        all === undefined ? { serial: rest[0]! } : { name: all, all: true },
      );
      const before = alreadyRevoked[0];
      ctx.print(
        before !== undefined
          ? `${before.serial} (${before.operator}, ${before.install}) was already revoked at ${new Date(before.revokedAt ?? 0).toISOString()}; nothing changed.`
          : revoked.length === 0
            ? `${all} had no certificate left to revoke.`
            : `Revoked ${revoked.map((c) => `${c.serial} (${c.operator}, ${c.install})`).join(', ')}; each linked runtime is told now.`,
        { revoked, alreadyRevoked },
      );
      return EXIT.OK;
    }
    default:
      throw usage(`\`operators certificate\` takes issue, list or revoke (got "${what ?? ''}").`);
  }
}

/**
 * `sutazai access rotate-key --install I`: a new token key for the install; tokens signed
 * with the old one are refused by each runtime once it is pushed the new key set.
 */
export async function runAccessCommand(ctx: CredentialCommandContext & { command: string }): Promise<number> {
  if (ctx.command !== 'rotate-key' || ctx.args.length > 0)
    throw usage(
      `Unknown command "access ${[ctx.command, ...ctx.args].join(' ')}".`,
      'Run `sutazai help`: `access rotate-key --install NAME`.',
    );
  const install = stringOption(ctx.values, 'install');
  if (install === undefined) throw usage('`access rotate-key` needs --install NAME.', 'sutazai access rotate-key --install lab');
  const api = await ctx.api();
  const rotated = await api.call('access.rotateKey', { install });
  ctx.print(
    `New token key ${rotated.keyId} for ${rotated.install} (${rotated.retired} retired): the runtimes refuse tokens of the old key from their next push, made within a second by a running app (or by the next command that calls them).`,
    rotated,
  );
  return EXIT.OK;
}

function validHours(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const hours = typeof value === 'string' && /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(hours >= 1 && hours <= OPERATOR_CERTIFICATE_MAX_HOURS))
    throw usage(`--valid-hours takes a whole number of hours from 1 to ${OPERATOR_CERTIFICATE_MAX_HOURS} (got "${String(value)}").`);
  return hours;
}

/** The three files issue writes, checked before anything is asked of the backend: none may exist yet. */
function certificateFiles(folder: string, name: string): CertificateFiles {
  const stat = fs.statSync(folder, { throwIfNoEntry: false });
  if (!stat?.isDirectory())
    throw usage(`--out ${folder} is not a folder.`, 'Create the folder first (only you should be able to read it).');
  // The operator name is the contract's (letters, digits, . _ @ -) but may start a dot-file: keep it a plain file name.
  const base = name.replace(/^\.+/, '_');
  const files = { cert: path.join(folder, `${base}.crt`), key: path.join(folder, `${base}.key`), ca: path.join(folder, 'install-ca.crt') };
  for (const file of Object.values(files))
    if (fs.existsSync(file)) throw usage(`${file} exists already: nothing is overwritten.`, 'Move it away or give another --out folder.');
  try {
    fs.accessSync(folder, fs.constants.W_OK);
  } catch {
    throw usage(`--out ${folder} cannot be written by this user.`, 'Give a folder you can write (only you should be able to read it).');
  }
  return files;
}

type CertificateFiles = { cert: string; key: string; ca: string };

/**
 * Puts the issued files in place only whole, and only all three: each is written and synced in
 * a private staging folder inside `folder` (same filesystem), then linked to its name, which
 * fails rather than replace a file that appeared meanwhile; the folder is synced after, so the
 * names survive a crash. On any failure (a full disk, a file that appeared, Ctrl+C or SIGTERM)
 * nothing is left under the three names, the staging folder is removed, and the certificate is
 * revoked: a certificate whose key nobody holds must not stay valid.
 */
async function placeIssuedFiles(
  folder: string,
  files: CertificateFiles,
  texts: Record<keyof CertificateFiles, string>,
  guard: InterruptionGuard,
  revoke: () => Promise<void>,
): Promise<void> {
  const placed: string[] = [];
  let staging: string | undefined;
  const removeWritten = (): void => {
    for (const file of placed) fs.rmSync(file, { force: true });
    if (staging !== undefined) fs.rmSync(staging, { recursive: true, force: true });
  };
  guard.onForcedExit(removeWritten);
  try {
    stopIfInterrupted(guard);
    staging = fs.mkdtempSync(stagingPrefix(folder));
    for (const which of ['key', 'cert', 'ca'] as const) writeSynced(path.join(staging, which), texts[which], modeOf(which));
    await interruptionPoint('certificate-staged');
    // Killed outright here (a test's SIGKILL), the staging folder stays: the next run sweeps it (sweepStaleStaging).
    failurePoint('certificate-staged');
    stopIfInterrupted(guard);
    for (const which of ['key', 'cert', 'ca'] as const)
      placeFile(path.join(staging, which), files[which], texts[which], modeOf(which), () => placed.push(files[which]));
    syncFolder(folder);
  } catch (error) {
    removeWritten();
    const revoked = await revoke().then(
      () => 'it has been revoked',
      (failure: unknown) =>
        `revoking it failed too (${failure instanceof Error ? failure.message : String(failure)}): revoke it by its serial`,
    );
    if (guard.signal !== undefined)
      throw new ApiError(
        'OPERATOR_CERTIFICATE_NOT_WRITTEN',
        `Stopped by ${guard.signal} before the certificate's files were all in ${folder}: no file was left and ${revoked}.`,
        'Issue it again when ready.',
      );
    throw new ApiError(
      'OPERATOR_CERTIFICATE_NOT_WRITTEN',
      `The certificate was issued but its files could not be written in ${folder} (${describeFsError(error)}); no file was left and ${revoked}.`,
      'Free space in the folder or pick another --out folder, then issue again.',
      { cause: error },
    );
  } finally {
    if (staging !== undefined) fs.rmSync(staging, { recursive: true, force: true });
  }
}

const modeOf = (which: keyof CertificateFiles): number => (which === 'key' ? 0o600 : 0o644);

/** When this process began: a staging folder changed since may be a run going on now. */
const RUN_STARTED_MS = Date.now() - process.uptime() * 1000;

/**
 * Sweeps the staging folders that killed runs left in `folder` and revokes the certificates
 * staged in them (nobody holds their keys but those folders); answers a line for each, to print.
 */
async function sweepOrphanedCertificates(api: ApiClient, folder: string): Promise<string[]> {
  const swept = sweepStaleStaging(folder, RUN_STARTED_MS);
  const lines = swept.removed.map((name) => `Removed ${path.join(folder, name)}, left by an issue that was killed.`);
  for (const serial of swept.serials) {
    const said = await api.call('operators.certificateRevoke', { serial }).then(
      (result) => (result.alreadyRevoked.length > 0 ? 'was revoked already' : 'revoked now: its key was only in that folder'),
      (error: unknown) => `could not be revoked (${error instanceof Error ? error.message : String(error)}): revoke it by its serial`,
    );
    lines.push(`Certificate ${serial}, staged there, ${said}.`);
  }
  return lines;
}

function stopIfInterrupted(guard: InterruptionGuard): void {
  if (guard.signal !== undefined) throw new Error(`stopped by ${guard.signal}`);
}

/**
 * Links the staged file to its name. A filesystem without hard links (vfat, exFAT, many SMB
 * shares: EPERM or ENOTSUP) gets the file created under its name exclusively (never over one
 * that exists), written whole and synced instead; `created` marks it as ours to remove.
 */
function placeFile(staged: string, file: string, text: string, mode: number, created: () => void): void {
  try {
    fs.linkSync(staged, file);
    created();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
    writeSynced(file, text, mode, created);
  }
}

/** Written and flushed to disk before it gets its name: a crash never leaves a named, partial key. */
function writeSynced(file: string, text: string, mode: number, created: () => void = () => undefined): void {
  const fd = fs.openSync(file, 'wx', mode);
  created();
  try {
    const bytes = Buffer.from(text, 'utf8');
    // writeSync may write less than asked (a signal, a network filesystem): on until every byte is.
    for (let offset = 0; offset < bytes.length;) {
      const written = fs.writeSync(fd, bytes, offset, bytes.length - offset);
      if (written <= 0) throw new Error(`writing ${file} made no progress`);
      offset += written;
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** The new names themselves reach the disk (a directory's entries are synced apart from its files' data). */
function syncFolder(folder: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(folder, 'r');
    fs.fsyncSync(fd);
  } catch (error) {
    // Some filesystems (SMB, some FUSE) cannot sync a directory: the files themselves are synced.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EISDIR' && code !== 'EPERM') throw error;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC') return 'the disk is full';
  if (code === 'EEXIST') return 'a file of the same name appeared meanwhile';
  if (code === 'EACCES' || code === 'EPERM') return 'the folder cannot be written';
  return error instanceof Error ? error.message : String(error);
}

function formatCertificates(certificates: OperatorCertificate[], now: number): string {
  return formatTable(
    ['SERIAL', 'OPERATOR', 'ROLE', 'INSTALL', 'STATE', 'UNTIL'],
    certificates.map((c) => [
      c.serial,
      c.operator,
      c.role,
      c.install,
      c.revokedAt !== null ? 'revoked' : c.notAfter <= now ? 'expired' : 'valid',
      new Date(c.notAfter).toISOString(),
    ]),
  );
}
