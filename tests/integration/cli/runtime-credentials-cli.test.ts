// `sutazai operators certificate issue|list|revoke` and `sutazai access rotate-key` (issue 14
// item 2): the real CLI as a child process on one data directory whose install has its CA key
// sealed in the vault, as the install engine leaves it. The certificate is the install CA's,
// names the operator and role, and its key is written 0600 and printed nowhere; nothing is
// written over a file that exists; a revoked serial is listed revoked; a rotation retires the key.
// Files are written only after the backend issued, and only whole: on a full disk none is left
// (the old code left an empty key file) and the certificate nobody holds is revoked.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeSerial } from '../../../agents-runtime/src/wire';
import type { InstallCa } from '../../../electron/backend/pki/install-ca';
import { recordInstallWithSealedCa } from '../../support/recorded-installs';
import { runSutazaiAsync, type SutazaiRun } from '../../support/run-sutazai';
import { makeTempDir } from '../../support/temp-dir';

const dir = makeTempDir('sutazai-credentials-cli-');
const dataDir = path.join(dir.path, 'data');
const out = path.join(dir.path, 'out');
const CLI_TIMEOUT_MS = 120_000;
const VAULT = { SUTAZAI_PASSPHRASE: 'vault passphrase of the test' };
const ADA = 'ada has a long password';
const VERA = 'vera has a long password';
let ca: InstallCa;

function sutazai(args: string[], stdin = ''): Promise<SutazaiRun> {
  return runSutazaiAsync(args, dataDir, { stdin, env: VAULT });
}
const codeOf = (run: SutazaiRun) => /error ([A-Z_]+):/.exec(run.stderr)?.[1];

beforeAll(async () => {
  fs.mkdirSync(out, { mode: 0o700 });
  const added = await sutazai(['operators', 'add', 'ada', '--role', 'admin'], `${ADA}\n`);
  expect(added.code).toBe(0);
  expect((await sutazai(['--as', 'ada', 'operators', 'add', 'vera', '--role', 'viewer'], `${ADA}\n${VERA}\n`)).code).toBe(0);
  // The install as the install engine records it: its CA certificate on the row, the CA key sealed in the vault.
  ca = await recordInstallWithSealedCa(dataDir, VAULT.SUTAZAI_PASSPHRASE, 'lab');
}, 3 * CLI_TIMEOUT_MS);
afterAll(() => dir.remove());

describe('sutazai operators certificate', () => {
  it(
    'issues a certificate of the install CA naming the operator and role, its key 0600 and printed nowhere; lists and revokes it',
    async () => {
      const issued = await sutazai(
        ['--as', 'ada', 'operators', 'certificate', 'issue', 'vera', '--install', 'lab', '--out', out, '--json'],
        `${ADA}\n`,
      );
      expect(issued.stderr).toBe('');
      expect(issued.code).toBe(0);
      const result = JSON.parse(issued.stdout) as {
        serial: string;
        operator: string;
        role: string;
        notAfter: number;
        issuedAt: number;
        files: Record<string, string>;
      };
      expect(result).toMatchObject({ operator: 'vera', role: 'viewer', install: 'lab' });
      expect(issued.stdout).not.toContain('PRIVATE KEY');
      expect(result.notAfter - result.issuedAt).toBeLessThanOrEqual(24 * 3600_000);

      const keyFile = path.join(out, 'vera.key');
      expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(keyFile, 'utf8')).toContain('PRIVATE KEY');
      const cert = new X509Certificate(fs.readFileSync(path.join(out, 'vera.crt')));
      expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
      expect(cert.subjectAltName).toContain('URI:urn:sutazai:operator:vera');
      expect(cert.subjectAltName).toContain('URI:urn:sutazai:role:viewer');
      expect(cert.checkPrivateKey(createPrivateKey(fs.readFileSync(keyFile)))).toBe(true);
      expect(fs.readFileSync(path.join(out, 'install-ca.crt'), 'utf8')).toBe(ca.certPem);

      // Never over a file that exists: the key written first stays.
      const again = await sutazai(
        ['--as', 'ada', 'operators', 'certificate', 'issue', 'vera', '--install', 'lab', '--out', out],
        `${ADA}\n`,
      );
      expect(codeOf(again)).toBe('BAD_PARAMS');
      expect(again.stderr).toContain('exists already');
      expect(new X509Certificate(fs.readFileSync(path.join(out, 'vera.crt'))).serialNumber.toLowerCase().replace(/^0+/, '')).toBe(
        result.serial,
      );

      const viewer = await sutazai(
        ['--as', 'vera', 'operators', 'certificate', 'issue', 'vera', '--install', 'lab', '--out', dir.path],
        `${VERA}\n`,
      );
      expect(codeOf(viewer)).toBe('ACCESS_DENIED');
      expect(viewer.code).toBe(13);

      const listed = await sutazai(['--as', 'ada', 'operators', 'certificate', 'list', 'vera', '--json'], `${ADA}\n`);
      expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ serial: result.serial, revokedAt: null })]);

      const revoked = await sutazai(['--as', 'ada', 'operators', 'certificate', 'revoke', result.serial.toUpperCase()], `${ADA}\n`);
      expect(revoked.code).toBe(0);
      expect(revoked.stdout).toContain(`Revoked ${result.serial} (vera, lab)`);
      const after = await sutazai(['--as', 'ada', 'operators', 'certificate', 'list', '--json'], `${ADA}\n`);
      expect(JSON.parse(after.stdout)).toEqual([expect.objectContaining({ serial: result.serial, revokedAt: expect.any(Number) })]);
      const unknown = await sutazai(['--as', 'ada', 'operators', 'certificate', 'revoke', 'abcdef'], `${ADA}\n`);
      expect(codeOf(unknown)).toBe('OPERATOR_CERTIFICATE_NOT_FOUND');
      expect(unknown.code).toBe(3);
    },
    10 * CLI_TIMEOUT_MS,
  );

  it(
    'leaves no file on a full disk and revokes the certificate it could not hand over',
    async () => {
      const full = path.join(dir.path, 'full');
      fs.mkdirSync(full, { mode: 0o700 });
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', full]);
      try {
        // Filled to the last page: a folder that can be written (a new name fits) but holds no byte more.
        const fill = Buffer.alloc(4096, 0x66);
        const filler = fs.openSync(path.join(full, 'filler'), 'w');
        let filled = false;
        try {
          for (let page = 0; page < 64 && !filled; page += 1) {
            try {
              fs.writeSync(filler, fill);
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
              filled = true;
            }
          }
        } finally {
          fs.closeSync(filler);
        }
        expect(filled).toBe(true);
        const before = await sutazai(['--as', 'ada', 'operators', 'certificate', 'list', '--json'], `${ADA}\n`);
        const known = new Set((JSON.parse(before.stdout) as Array<{ serial: string }>).map((c) => c.serial));
        const issued = await sutazai(
          ['--as', 'ada', 'operators', 'certificate', 'issue', 'vera', '--install', 'lab', '--out', full],
          `${ADA}\n`,
        );
        expect(codeOf(issued)).toBe('OPERATOR_CERTIFICATE_NOT_WRITTEN');
        expect(issued.stderr).toContain('the disk is full');
        expect(issued.stderr).toContain('it has been revoked');
        expect(issued.stdout + issued.stderr).not.toContain('PRIVATE KEY');
        expect(fs.readdirSync(full)).toEqual(['filler']);
        const after = await sutazai(['--as', 'ada', 'operators', 'certificate', 'list', '--json'], `${ADA}\n`);
        const fresh = (JSON.parse(after.stdout) as Array<{ serial: string; revokedAt: number | null }>).filter((c) => !known.has(c.serial));
        expect(fresh).toEqual([expect.objectContaining({ revokedAt: expect.any(Number) })]);
      } finally {
        execFileSync('umount', [full]);
      }
    },
    4 * CLI_TIMEOUT_MS,
  );

  it(
    'stopped by SIGTERM between issuing and placing its files: no file or staging folder is left and the certificate is revoked',
    async () => {
      const folder = path.join(dir.path, 'interrupted');
      fs.mkdirSync(folder, { mode: 0o700 });
      const before = await sutazai(['--as', 'ada', 'operators', 'certificate', 'list', '--json'], `${ADA}\n`);
      const known = new Set((JSON.parse(before.stdout) as Array<{ serial: string }>).map((c) => c.serial));
      // The CLI signals itself once the three files are staged in --out, before any is linked.
      const issued = await runSutazaiAsync(
        ['--as', 'ada', 'operators', 'certificate', 'issue', 'vera', '--install', 'lab', '--out', folder],
        dataDir,
        { stdin: `${ADA}\n`, env: { ...VAULT, SUTAZAI_TEST_FAILURE_POINT: 'certificate-staged:SIGTERM' } },
      );
      expect(codeOf(issued)).toBe('OPERATOR_CERTIFICATE_NOT_WRITTEN');
      expect(issued.stderr).toContain('Stopped by SIGTERM');
      expect(issued.stderr).toContain('it has been revoked');
      expect(issued.stdout + issued.stderr).not.toContain('PRIVATE KEY');
      expect(fs.readdirSync(folder)).toEqual([]);
      const after = await sutazai(['--as', 'ada', 'operators', 'certificate', 'list', '--json'], `${ADA}\n`);
      const fresh = (JSON.parse(after.stdout) as Array<{ serial: string; revokedAt: number | null }>).filter((c) => !known.has(c.serial));
      expect(fresh).toEqual([expect.objectContaining({ revokedAt: expect.any(Number) })]);
    },
    4 * CLI_TIMEOUT_MS,
  );

  it(
    'killed outright after staging its files: the next issue in that folder sweeps the staging folder (only its own) and revokes its certificate',
    async () => {
      const folder = path.join(dir.path, 'killed');
      fs.mkdirSync(folder, { mode: 0o700 });
      const before = await sutazai(
        ['--as', 'ada', 'operators', 'certificate', 'list', '--json'],
        `${ADA}
`,
      );
      const known = new Set((JSON.parse(before.stdout) as Array<{ serial: string }>).map((c) => c.serial));
      // A real CLI process SIGKILLs itself once the three files are staged: nothing of it can clean up.
      const killed = await runSutazaiAsync(
        ['--as', 'ada', 'operators', 'certificate', 'issue', 'vera', '--install', 'lab', '--out', folder],
        dataDir,
        { stdin: `${ADA}\n`, env: { ...VAULT, SUTAZAI_TEST_FAILURE_POINT: 'certificate-staged:SIGKILL' } },
      );
      expect(killed.code).toBeNull();
      const left = fs.readdirSync(folder);
      expect(left).toEqual([expect.stringMatching(/^\.sutazai-certificate-\d+-[A-Za-z0-9]{1,32}-[A-Za-z0-9]{6}$/)]);
      expect(fs.readdirSync(path.join(folder, left[0]!)).sort()).toEqual(['ca', 'cert', 'key']);
      const staged = normalizeSerial(new X509Certificate(fs.readFileSync(path.join(folder, left[0]!, 'cert'))).serialNumber);

      // What the sweep must leave: a link named as a staging folder (never followed), a folder of a run
      // still going (this test's pid), a pid-less one not an hour old, and names of another pattern.
      const outside = path.join(dir.path, 'outside');
      fs.mkdirSync(outside);
      fs.writeFileSync(path.join(outside, 'keep'), 'not the CLI’s');
      fs.symlinkSync(outside, path.join(folder, '.sutazai-certificate-1-abcdef'));
      const kept = [
        `.sutazai-certificate-${process.pid}-abcdef`,
        '.sutazai-certificate-abcdef',
        '.sutazai-certificate-12-abc',
        'sutazai-certificate-1-abcdef',
      ];
      for (const name of kept) fs.mkdirSync(path.join(folder, name));

      const issued = await sutazai(
        ['--as', 'ada', 'operators', 'certificate', 'issue', 'vera', '--install', 'lab', '--out', folder],
        `${ADA}\n`,
      );
      expect(issued.code, issued.stderr).toBe(0);
      expect(issued.stdout).toContain(`Removed ${path.join(folder, left[0]!)}, left by an issue that was killed.`);
      expect(issued.stdout).toContain(`Certificate ${staged}, staged there, revoked now`);
      expect(fs.readdirSync(folder).sort()).toEqual(
        [...kept, '.sutazai-certificate-1-abcdef', 'install-ca.crt', 'vera.crt', 'vera.key'].sort(),
      );
      expect(fs.readFileSync(path.join(outside, 'keep'), 'utf8')).toBe('not the CLI’s');
      const after = await sutazai(['--as', 'ada', 'operators', 'certificate', 'list', '--json'], `${ADA}\n`);
      const fresh = (JSON.parse(after.stdout) as Array<{ serial: string; revokedAt: number | null }>).filter((c) => !known.has(c.serial));
      expect(fresh.find((c) => c.serial === staged)).toMatchObject({ revokedAt: expect.any(Number) });
      expect(fresh.filter((c) => c.revokedAt === null)).toHaveLength(1);
    },
    6 * CLI_TIMEOUT_MS,
  );

  it(
    'rotates an install’s token key: a new key, the old one retired; an unknown install is refused',
    async () => {
      const first = await sutazai(['--as', 'ada', 'access', 'rotate-key', '--install', 'lab', '--json'], `${ADA}\n`);
      expect(first.code).toBe(0);
      const second = await sutazai(['--as', 'ada', 'access', 'rotate-key', '--install', 'lab', '--json'], `${ADA}\n`);
      const [a, b] = [JSON.parse(first.stdout), JSON.parse(second.stdout)] as Array<{ keyId: string; retired: number }>;
      expect(b!.keyId).not.toBe(a!.keyId);
      expect(b!.retired).toBe(1);
      const unknown = await sutazai(['--as', 'ada', 'access', 'rotate-key', '--install', 'nope'], `${ADA}\n`);
      expect(codeOf(unknown)).toBe('NOT_FOUND');
    },
    4 * CLI_TIMEOUT_MS,
  );
});
