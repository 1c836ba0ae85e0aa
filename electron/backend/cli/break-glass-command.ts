import path from 'node:path';
import { ApiError, OperatorNameSchema } from '../../contract';
import { resetAdmin } from '../operators/break-glass';
import { createRuntimeCredentialsRepo } from '../fleet/credentials/runtime-credentials-repo';
import { createOperatorsRepo } from '../operators/operators-repo';
import { createInstallsRepo } from '../store/installs-repo';
import { openExistingStore } from '../store/open-existing-store';
import { EXIT } from './exit-codes';
import { newPassword } from './operators-commands';

const USAGE = 'sutazai operators reset-admin NAME --data-dir /srv/sutazai';

/**
 * `sutazai operators reset-admin NAME`: break-glass when every admin is locked out
 * (operators/break-glass.ts). It starts no backend and signs no one in: it needs only to be
 * able to write the data directory, which is the proof. A running app beside it sees the
 * change at its next call (its runtimes within a second).
 */
export async function runResetAdminCommand(ctx: {
  args: string[];
  dataDir: string;
  print(text: string, value: unknown): void;
}): Promise<number> {
  if (ctx.args.length !== 1) throw new ApiError('BAD_PARAMS', '`operators reset-admin` takes one operator name.', USAGE);
  const parsed = OperatorNameSchema.safeParse(ctx.args[0]);
  if (!parsed.success)
    throw new ApiError('BAD_PARAMS', `"${ctx.args[0]}" is not an operator name.`, 'Use letters, digits, dot, underscore, @ or dash.');
  const name = parsed.data;
  const dataDir = path.resolve(ctx.dataDir);
  // Only a store that exists: a mistyped --data-dir (or another account's default) would
  // otherwise get a fresh database, and a reset that looks done but changes nothing real.
  const store = openExistingStore(
    dataDir,
    '`operators reset-admin`',
    `Give the data directory the control center runs with: --data-dir DIR (the folder that holds sutazai.db; run as the account that owns it). For example: ${USAGE}`,
  );
  try {
    if (createOperatorsRepo(store.db).count() === 0)
      throw new ApiError(
        'BAD_PARAMS',
        `The control center in ${dataDir} has no operators: there is nothing to break into, and reset-admin changed nothing.`,
        'Add the first admin with `sutazai operators add NAME --role admin` (no sign-in is needed while there are no operators).',
      );
    const password = await newPassword(name);
    const result = await resetAdmin(store.db, { name, password, now: Date.now });
    const certificates = liveCertificatesOf(store, result.name, Date.now());
    const was = result.created
      ? 'added as a new admin'
      : [
          result.wasRole !== null ? `was ${result.wasRole}, now admin` : 'admin',
          result.wasDisabled ? 'enabled again' : '',
          result.mfaRemoved ? 'two-factor sign-in removed (enrol again under My account)' : '',
          result.sessionsEnded > 0 ? `${result.sessionsEnded} browser sign-in(s) ended` : '',
        ]
          .filter((part) => part !== '')
          .join('; ');
    ctx.print(
      [
        `Break-glass in ${dataDir}: ${result.name} signs in with the new password (${was}). Recorded in the audit log as entry ${result.auditSeq}.`,
        ...(certificates.length === 0
          ? []
          : [
              `${result.name}'s runtime certificates are still valid (break-glass leaves them; revoke those you no longer trust, and sign out the desktop and CLI connections by restarting the app):`,
              ...certificates.map((c) => `  ${c.serial} on ${c.install}, until ${new Date(c.notAfter).toISOString()}`),
              `  sutazai --as ${result.name} operators certificate revoke --all ${result.name}`,
            ]),
      ].join('\n'),
      { ...result, dataDir, liveCertificates: certificates },
    );
    return EXIT.OK;
  } finally {
    store.close();
  }
}

/** The operator's runtime certificates neither revoked nor expired, for the break-glass output. */
function liveCertificatesOf(
  store: { db: Parameters<typeof createInstallsRepo>[0] },
  name: string,
  now: number,
): Array<{ serial: string; install: string; notAfter: number }> {
  const installs = createInstallsRepo(store.db);
  return createRuntimeCredentialsRepo(store.db)
    .certificates(name)
    .filter((c) => c.revokedAt === null && c.notAfter > now)
    .map((c) => ({ serial: c.serial, install: installs.get(c.installId)?.name ?? `install ${c.installId}`, notAfter: c.notAfter }));
}
