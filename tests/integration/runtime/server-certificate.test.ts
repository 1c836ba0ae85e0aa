/**
 * The runtime's TLS material check (agents-runtime/src/server/server-certificate.ts) runs in
 * a Node process of its own, so the daemon does not load node:crypto at start. Pinned here:
 * that process gives the same verdicts as the check run in this process (good material,
 * expired, not yet valid, a stray key, text that is no certificate), it works from the
 * source as tsx transforms it (which names functions with a helper of its own), and the
 * daemon falls back to checking itself, and says so, when that process cannot run.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkServerTlsMaterial,
  tlsMaterialVerdict,
  verdictApart,
  type ServerTlsMaterial,
} from '../../../agents-runtime/src/server/server-certificate';
import { RuntimeError } from '../../../agents-runtime/src/runtime-error';
import { REPO_ROOT } from '../../support/runtime-daemon-harness';
import { makeRuntimeCerts } from '../../support/runtime-certs';

const certs = makeRuntimeCerts();
afterAll(() => certs.remove());

const good: ServerTlsMaterial = { caCertPem: certs.ca.certPem, certPem: certs.server.certPem, keyPem: certs.server.keyPem };
const YEAR_MS = 365 * 24 * 3600 * 1000;

describe('the TLS material check in a process of its own', () => {
  const cases: Array<[string, ServerTlsMaterial, number, RegExp | null]> = [
    ['good material', good, Date.now(), null],
    ['an expired server certificate', { ...good, ...certs.expiredServer }, Date.now(), /server certificate .* expired on/],
    ['a clock before the certificates', good, Date.now() - 20 * YEAR_MS, /CA certificate is not valid before/],
    [
      'a key of no certificate here',
      { ...good, keyPem: certs.strayKeyPem },
      Date.now(),
      /server key does not match the server certificate/,
    ],
    ['a key that is no key', { ...good, keyPem: 'not a key' }, Date.now(), /not an unencrypted PEM private key/],
    [
      'a certificate that is no certificate',
      { ...good, certPem: '-----BEGIN CERTIFICATE-----\nAAAA\n' },
      Date.now(),
      /server certificate is not a PEM X.509/,
    ],
  ];
  for (const [what, material, nowMs, problem] of cases) {
    it(`${what}: the same verdict as in this process`, async () => {
      const apart = await verdictApart(material, nowMs);
      expect(apart).toEqual(tlsMaterialVerdict(material, nowMs));
      if (problem === null) expect(apart).toEqual({ notAfterMs: expect.any(Number) });
      else expect(apart).toMatchObject({ problem: { message: expect.stringMatching(problem), remedy: expect.any(String) } });
    });
  }

  it('runs from the source as tsx transforms it', () => {
    const program = [
      "import('./agents-runtime/src/server/server-certificate.ts').then(async (m) => {",
      `  const verdict = await m.verdictApart(${JSON.stringify({ ...good, keyPem: certs.strayKeyPem })}, Date.now());`,
      '  process.stdout.write(JSON.stringify(verdict));',
      '});',
    ].join('\n');
    const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', program], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ problem: { message: expect.stringContaining('does not match') } });
  });

  it('throws CERTIFICATE_INVALID with the remedy, and says nothing of a fallback when the process answered', async () => {
    const fallbacks: string[] = [];
    const error = await checkServerTlsMaterial(
      { ...good, ...certs.expiredServer },
      { onCheckedInProcess: (why) => fallbacks.push(why) },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuntimeError);
    expect(error).toMatchObject({ code: 'CERTIFICATE_INVALID', remedy: expect.stringContaining('new server certificate') });
    const { notAfter } = await checkServerTlsMaterial(good, { onCheckedInProcess: (why) => fallbacks.push(why) });
    expect(notAfter.getTime()).toBeGreaterThan(Date.now());
    expect(fallbacks).toEqual([]);
  });

  it('checks in its own process, and says why, when the checking process cannot run', async () => {
    const execPath = process.execPath;
    const fallbacks: string[] = [];
    process.execPath = '/nonexistent/node';
    try {
      await expect(
        checkServerTlsMaterial({ ...good, keyPem: certs.strayKeyPem }, { onCheckedInProcess: (why) => fallbacks.push(why) }),
      ).rejects.toMatchObject({ code: 'CERTIFICATE_INVALID', message: expect.stringContaining('does not match') });
    } finally {
      process.execPath = execPath;
    }
    expect(fallbacks).toEqual([expect.stringContaining('could not run')]);
  });
});
