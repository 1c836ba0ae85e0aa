// `sutazai operators mfa enrol|reset NAME`, `operators mfa step-up|require-web on|off` and `--as NAME --code`:
// the real CLI as a child process on one data directory, its vault opened by SUTAZAI_PASSPHRASE.
// The password and the code come on standard input (the enrolment's first code after the CLI
// has shown the secret, computed here from it as an authenticator app would), never on the
// command line.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../../electron/backend/operators/totp';
import { runSutazaiAsync, type SutazaiRun } from '../../support/run-sutazai';
import { makeTempDir } from '../../support/temp-dir';

const root = path.resolve(__dirname, '../../..');
const dir = makeTempDir('sutazai-operators-mfa-cli-');
const dataDir = path.join(dir.path, 'data');
const CLI_TIMEOUT_MS = 120_000;
const ENV = { SUTAZAI_PASSPHRASE: 'the vault passphrase of this test' };

const ADA = 'ada has a long password';
const VERA = 'vera has a long password';

function sutazai(args: string[], stdin = '', env: Record<string, string> = ENV): Promise<SutazaiRun> {
  return runSutazaiAsync(args, dataDir, { stdin, env });
}

const codeOf = (run: SutazaiRun) => /error ([A-Z_]+):/.exec(run.stderr)?.[1];

/**
 * `operators mfa enrol` as a person runs it: the password first, then, once the CLI has
 * printed the secret, the code an app computes from it.
 */
function enrol(args: string[], password: string, codeFor: (secret: string) => string): Promise<SutazaiRun & { secret: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'bin/sutazai.mjs'), ...args], {
      cwd: root,
      env: { ...process.env, SUTAZAI_DATA_DIR: dataDir, ...ENV },
    });
    let stdout = '';
    let stderr = '';
    let secret = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const shown = /^Secret: ([A-Z2-7]+)$/m.exec(stdout);
      if (shown && secret === '') {
        secret = shown[1]!;
        child.stdin.end(`${codeFor(secret)}\n`);
      }
    });
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, secret }));
    child.stdin.write(`${password}\n`);
  });
}

beforeAll(async () => {
  expect((await sutazai(['help'])).code).toBe(0);
}, CLI_TIMEOUT_MS);
afterAll(() => dir.remove());

describe('sutazai operators mfa', () => {
  it(
    'enrols with the QR code and the secret shown, asks --code of an enrolled operator, takes each code and recovery code once',
    async () => {
      expect((await sutazai(['operators', 'add', 'ada', '--role', 'admin'], `${ADA}\n`)).code).toBe(0);

      const wrongFirst = await enrol(['--as', 'ada', 'operators', 'mfa', 'enrol', 'ada'], ADA, (secret) =>
        totpCode(secret, Date.now() + 10 * 30_000),
      );
      expect(codeOf(wrongFirst)).toBe('MFA_CODE_WRONG');
      expect(wrongFirst.code).toBe(13);

      const enrolled = await enrol(['--as', 'ada', 'operators', 'mfa', 'enrol', 'ada'], ADA, (secret) => totpCode(secret, Date.now()));
      expect(enrolled.stderr).toBe('');
      expect(enrolled.code).toBe(0);
      expect(enrolled.stdout).toContain('█');
      expect(enrolled.stdout).toContain(`URI:    otpauth://totp/SutazAI:ada?`);
      const recovery = [...enrolled.stdout.matchAll(/^ {2}([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})$/gm)].map((match) => match[1]!);
      expect(recovery).toHaveLength(10);
      expect(enrolled.secret).toMatch(/^[A-Z2-7]{32}$/);

      const noCode = await sutazai(['--as', 'ada', 'hosts', 'list'], `${ADA}\n`);
      expect(codeOf(noCode)).toBe('MFA_REQUIRED');
      expect(noCode.stderr).toContain('remedy: Add --code');
      expect(noCode.code).toBe(13);

      const wrong = await sutazai(['--as', 'ada', '--code', 'hosts', 'list'], `${ADA}\n000000\n`);
      expect(codeOf(wrong)).toBe('SIGN_IN_FAILED');

      // The next step's code (this step's confirmed the enrolment): signs in, and counts as the step-up.
      const code = totpCode(enrolled.secret, Date.now() + 30_000);
      const stepUpOn = await sutazai(['--as', 'ada', '--code', 'operators', 'mfa', 'step-up', 'on'], `${ADA}\n${code}\n`);
      expect(stepUpOn.stderr).toBe('');
      expect(stepUpOn.stdout).toContain('Step-up is on');
      const replayed = await sutazai(['--as', 'ada', '--code', 'hosts', 'list'], `${ADA}\n${code}\n`);
      expect(codeOf(replayed)).toBe('SIGN_IN_FAILED');

      const [first, second, third] = recovery as [string, string, string];
      const added = await sutazai(['--as', 'ada', '--code', 'operators', 'add', 'vera', '--role', 'viewer'], `${ADA}\n${first}\n${VERA}\n`);
      expect(added.stderr).toBe('');
      expect(added.stdout).toContain('Operator vera added as viewer.');
      expect(codeOf(await sutazai(['--as', 'ada', '--code', 'hosts', 'list'], `${ADA}\n${first}\n`))).toBe('SIGN_IN_FAILED');

      // Two-factor sign-in required of web mode for a team: an admin with it turns it on (step-up is on: with a code); a viewer may not.
      const requireWeb = await sutazai(['--as', 'ada', '--code', 'operators', 'mfa', 'require-web', 'on'], `${ADA}\n${recovery[3]!}\n`);
      expect(requireWeb.stderr).toBe('');
      expect(requireWeb.stdout).toContain('Web mode for a team requires two-factor sign-in');
      expect(codeOf(await sutazai(['--as', 'vera', 'operators', 'mfa', 'require-web', 'off'], `${VERA}\n`))).toBe('ACCESS_DENIED');
      expect(codeOf(await sutazai(['operators', 'mfa', 'require-web', 'maybe'], ''))).toBe('BAD_PARAMS');

      // An admin's sign-in with no code at all stops before any command (MFA_REQUIRED): vera, not enrolled, needs none
      // (the command line is no web mode: requiring two-factor sign-in there does not reach it).
      expect((await sutazai(['--as', 'vera', 'hosts', 'list'], `${VERA}\n`)).code).toBe(0);
      const withoutCode = await sutazai(['--code', 'hosts', 'list'], `x\n`);
      expect(codeOf(withoutCode)).toBe('BAD_PARAMS');
      expect(withoutCode.code).toBe(2);

      // The vault holds the TOTP secret: without its passphrase a TOTP code cannot be checked; a recovery code (a hash) still can.
      const locked = await sutazai(
        ['--as', 'ada', '--code', 'hosts', 'list'],
        `${ADA}\n${totpCode(enrolled.secret, Date.now() + 30_000)}\n`,
        {},
      );
      expect(codeOf(locked)).toBe('SECRETS_LOCKED');
      expect(locked.code).toBe(8);
      expect((await sutazai(['--as', 'ada', '--code', 'hosts', 'list'], `${ADA}\n${second}\n`, {})).code).toBe(0);

      const reset = await sutazai(['--as', 'ada', '--code', 'operators', 'mfa', 'reset', 'ada'], `${ADA}\n${third}\n`);
      expect(reset.stderr).toBe('');
      expect(reset.stdout).toContain('Two-factor sign-in of ada reset');
      // Step-up stays on: ada, without two-factor sign-in now, is told to enrol before admin actions.
      const admin = await sutazai(['--as', 'ada', 'operators', 'remove', 'vera'], `${ADA}\n`);
      expect(codeOf(admin)).toBe('MFA_STEP_UP_REQUIRED');
      expect(admin.stderr).toContain('sutazai operators mfa enrol ada');
      expect((await sutazai(['--as', 'ada', 'hosts', 'list'], `${ADA}\n`)).code).toBe(0);
    },
    20 * CLI_TIMEOUT_MS,
  );
});
