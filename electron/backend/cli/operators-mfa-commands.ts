import QRCode from 'qrcode';
import { ApiError, type ApiClient } from '../../contract';
import { STEP_UP_MS } from '../operators/step-up';
import { EXIT } from './exit-codes';
import { secretsFromPromptOrStdin } from './read-secret-input';

export interface OperatorsMfaCommandContext {
  args: string[];
  print(text: string, value: unknown): void;
  api(): Promise<ApiClient>;
}

const USAGE = 'Run `sutazai help` for `operators mfa enrol|reset NAME` and `operators mfa step-up|require-web on|off`.';

/**
 * `sutazai operators mfa enrol|reset NAME`, `operators mfa step-up on|off`, `operators mfa
 * require-web on|off` (issue 14, item 4).
 * Enrol shows the QR code (on the terminal), the secret and the URI, then reads the first
 * code the app shows (a hidden prompt or the next line of standard input) and prints the ten
 * recovery codes: the only time they are shown.
 */
export async function runOperatorsMfaCommand(ctx: OperatorsMfaCommandContext): Promise<number> {
  const [what, subject, ...rest] = ctx.args;
  if (subject === undefined || rest.length > 0 || !['enrol', 'reset', 'step-up', 'require-web'].includes(what ?? ''))
    throw new ApiError(
      'BAD_PARAMS',
      `\`operators mfa\` takes enrol NAME, reset NAME, step-up on|off or require-web on|off (got "${ctx.args.join(' ')}").`,
      USAGE,
    );
  const api = await ctx.api();
  switch (what) {
    case 'enrol': {
      const begun = await api.call('mfa.enrolBegin', { name: subject });
      // Block characters, no escape codes: the printed text passes the terminal-output escaping unchanged.
      const qr = await QRCode.toString(begun.uri, { type: 'utf8' });
      ctx.print(
        [
          `Scan this with ${begun.name}'s authenticator app (or type the secret into it):`,
          qr,
          `Secret: ${begun.secret}`,
          `URI:    ${begun.uri}`,
          'Shown this once: keep it nowhere but in the app.',
        ].join('\n'),
        begun,
      );
      const [code] = await secretsFromPromptOrStdin([`the code ${begun.name}'s app shows now`]);
      const { recoveryCodes } = await api.call('mfa.enrolConfirm', { name: begun.name, code: code! });
      ctx.print(
        [
          `Two-factor sign-in is on for ${begun.name}. Recovery codes (each signs in once; shown this once, keep them offline):`,
          ...recoveryCodes.map((recovery) => `  ${recovery}`),
        ].join('\n'),
        { name: begun.name, recoveryCodes },
      );
      return EXIT.OK;
    }
    case 'reset': {
      const { name } = await api.call('mfa.reset', { name: subject });
      ctx.print(`Two-factor sign-in of ${name} reset: the password alone signs in until enrolled again.`, { name });
      return EXIT.OK;
    }
    case 'require-web': {
      if (subject !== 'on' && subject !== 'off')
        throw new ApiError('BAD_PARAMS', `\`operators mfa require-web\` takes on or off (got "${subject}").`, USAGE);
      const { required } = await api.call('mfa.setWebRequired', { required: subject === 'on' });
      ctx.print(
        required
          ? 'Web mode for a team requires two-factor sign-in: an operator without it sets it up at its next sign-in there, before any session. Loopback web mode and the desktop app are not affected.'
          : 'Web mode for a team no longer requires two-factor sign-in: an operator without it signs in with the password (or the provider) alone.',
        { required },
      );
      return EXIT.OK;
    }
    default: {
      if (subject !== 'on' && subject !== 'off')
        throw new ApiError('BAD_PARAMS', `\`operators mfa step-up\` takes on or off (got "${subject}").`, USAGE);
      const { required } = await api.call('mfa.setStepUp', { required: subject === 'on' });
      ctx.print(
        required
          ? `Step-up is on: install, upgrade, rollback, uninstall, trusting a key and managing operators need a two-factor code typed within ${STEP_UP_MS / 60_000} minutes.`
          : 'Step-up is off: the sign-in alone allows admin actions.',
        { required },
      );
      return EXIT.OK;
    }
  }
}
