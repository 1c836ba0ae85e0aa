import { ApiError, OperatorNameSchema } from '../../contract';
import { resetAdmin } from '../operators/break-glass';
import { openStore } from '../store/open-store';
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
  const password = await newPassword(name);
  const store = openStore({ dataDir: ctx.dataDir });
  try {
    const result = await resetAdmin(store.db, { name, password, now: Date.now });
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
      `Break-glass: ${result.name} signs in with the new password (${was}). Recorded in the audit log as entry ${result.auditSeq}.`,
      result,
    );
    return EXIT.OK;
  } finally {
    store.close();
  }
}
