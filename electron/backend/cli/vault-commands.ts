import { ApiError, type ApiClient } from '../../contract';
import { CURRENT_KDF } from '../secrets/passphrase-kdf';
import { EXIT } from './exit-codes';
import { secretFromFile, secretsFromStdin } from './read-secret-input';

export const VAULT_COMMANDS = ['change-passphrase'];

export interface VaultCommandContext {
  command: string;
  args: string[];
  values: Record<string, string | boolean | string[] | undefined>;
  /** The current passphrase when given the usual way (--passphrase-file or SUTAZAI_PASSPHRASE). */
  passphrase: string | undefined;
  print(text: string, value: unknown): void;
  /** The contract's client to a backend whose vault is still locked: the change opens it with the current passphrase. */
  api(): Promise<ApiClient>;
}

/**
 * `sutazai vault change-passphrase [--new-passphrase-file F]`: re-seals every stored
 * secret under a new passphrase. Both passphrases come from files or standard input
 * (current first, then new, one a line), never from the command line.
 */
export async function runVaultCommand(ctx: VaultCommandContext): Promise<number> {
  if (ctx.args.length > 0)
    throw new ApiError(
      'BAD_PARAMS',
      `\`vault ${ctx.command}\` takes no arguments (got "${ctx.args.join(' ')}").`,
      'Give the passphrases in files or on standard input, never on the command line.',
    );
  const newFile = ctx.values['new-passphrase-file'];
  const fromStdin = [
    ...(ctx.passphrase === undefined ? ['current vault passphrase'] : []),
    ...(typeof newFile === 'string' ? [] : ['new vault passphrase']),
  ];
  const piped = fromStdin.length > 0 ? await secretsFromStdin(fromStdin) : [];
  const current = ctx.passphrase ?? piped.shift()!;
  const next = typeof newFile === 'string' ? secretFromFile(newFile, 'new vault passphrase') : piped.shift()!;

  const api = await ctx.api();
  const { resealed, unreadable } = await api.call('secrets.changePassphrase', { passphrase: current, newPassphrase: next });
  const lines = [
    `Vault passphrase changed: ${resealed} stored secret${resealed === 1 ? '' : 's'} re-sealed (scrypt N=2^${Math.log2(CURRENT_KDF.N)}, r=${CURRENT_KDF.r}, p=${CURRENT_KDF.p}).`,
    'The old passphrase no longer opens this data directory: update SUTAZAI_PASSPHRASE or the --passphrase-file wherever it is kept.',
  ];
  if (unreadable > 0)
    lines.push(
      `${unreadable} stored secret${unreadable === 1 ? ' was' : 's were'} already unreadable (altered on disk) and stay so: enter those passwords again in the host settings.`,
    );
  ctx.print(lines.join('\n'), { resealed, unreadable, kdf: CURRENT_KDF });
  return EXIT.OK;
}
