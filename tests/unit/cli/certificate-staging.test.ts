// The sweep of staging folders that killed `operators certificate issue` runs left in --out
// (certificate-staging.ts): it answers a serial to revoke only for a certificate whose key is
// staged beside it, in the very folder it looked at, and sweeps a folder whose pid now runs a
// later process. Real folders, real certificates of a real install CA, a real live process.
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { normalizeSerial } from '../../../agents-runtime/src/wire';
import { machineTag, processStartMs, sweepStaleStaging } from '../../../electron/backend/cli/certificate-staging';
import { createInstallCa } from '../../../electron/backend/pki/install-ca';
import { issueClientCertificate, type IssuedCertificate } from '../../../electron/backend/pki/issue-certificate';

let dir = '';
let vera: IssuedCertificate;
let victim: IssuedCertificate;
const children: ChildProcess[] = [];
const HOUR_AGO = () => new Date(Date.now() - 2 * 3600_000);
const serialOf = (issued: IssuedCertificate) => normalizeSerial(new X509Certificate(issued.certPem).serialNumber);

beforeAll(async () => {
  const ca = await createInstallCa({ installName: 'lab' });
  vera = await issueClientCertificate(ca, { operatorName: 'vera', role: 'operator' });
  victim = await issueClientCertificate(ca, { operatorName: 'ada', role: 'admin' });
});
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-certificate-staging-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  for (const child of children.splice(0)) child.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A staging folder as a run leaves it (key 0600, cert, ca), last changed `at`. */
function stage(name: string, files: { cert: string; key: string }, at = HOUR_AGO()): string {
  const folder = path.join(dir, name);
  fs.mkdirSync(folder, { mode: 0o700 });
  fs.writeFileSync(path.join(folder, 'key'), files.key, { mode: 0o600 });
  fs.writeFileSync(path.join(folder, 'cert'), files.cert);
  fs.writeFileSync(path.join(folder, 'ca'), 'the install CA');
  fs.utimesSync(folder, at, at);
  return folder;
}

/** A pid that no longer runs: a child that has exited (and was reaped). */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

/** A process running now, started after every folder staged an hour ago. */
async function liveProcess(): Promise<number> {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(child);
  await new Promise((resolve) => child.once('spawn', resolve));
  return child.pid!;
}

describe('sweeping the staging folders of killed certificate issues', () => {
  it('revokes the certificate staged with its own key, and removes the folder', async () => {
    const name = `.sutazai-certificate-${await deadPid()}-${machineTag()}-Ab12Cd`;
    stage(name, { cert: vera.certPem, key: vera.keyPem });
    expect(sweepStaleStaging(dir, Date.now())).toEqual({ removed: [name], serials: [serialOf(vera)] });
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('answers no serial for a stale folder whose certificate is not its key’s (removed all the same)', async () => {
    // Named as the release before named them (pid, no machine): still this machine's.
    const name = `.sutazai-certificate-${await deadPid()}-Ab12Cd`;
    // Someone who can write the folder put another operator's certificate beside the staged key.
    stage(name, { cert: victim.certPem, key: vera.keyPem });
    expect(sweepStaleStaging(dir, Date.now())).toEqual({ removed: [name], serials: [] });
  });

  it('does not revoke a certificate of a folder renamed into the staging name between the look and the open', async () => {
    const name = `.sutazai-certificate-${await deadPid()}-Ab12Cd`;
    const staged = stage(name, { cert: vera.certPem, key: vera.keyPem });
    // Another folder (another user's, in earnest), whose certificate and key are a victim's.
    const other = path.join(dir, 'other');
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, 'cert'), victim.certPem);
    fs.writeFileSync(path.join(other, 'key'), victim.keyPem, { mode: 0o600 });
    // The exchange lands right before the sweep's first open under the staging folder's name.
    const realOpen = fs.openSync.bind(fs);
    let swapped = false;
    vi.spyOn(fs, 'openSync').mockImplementation((...args: Parameters<typeof fs.openSync>) => {
      if (!swapped && String(args[0]).startsWith(staged)) {
        swapped = true;
        fs.renameSync(staged, path.join(dir, 'aside'));
        fs.renameSync(other, staged);
      }
      return realOpen(...args);
    });
    const swept = sweepStaleStaging(dir, Date.now());
    expect(swapped).toBe(true);
    expect(swept.serials).not.toContain(serialOf(victim));
    expect(swept).toEqual({ removed: [], serials: [] });
    // The folder renamed there is left as it is.
    expect(fs.readdirSync(staged).sort()).toEqual(['cert', 'key']);
  });

  it('sweeps a folder whose pid runs again as a process started after the folder, and keeps one whose run is going on', async () => {
    const pid = await liveProcess();
    expect(processStartMs(pid)).toBeGreaterThan(HOUR_AGO().getTime());
    const reused = `.sutazai-certificate-${pid}-${machineTag()}-Ab12Cd`;
    const reusedBefore = `.sutazai-certificate-${pid}-Xy34Zw`;
    stage(reused, { cert: vera.certPem, key: vera.keyPem });
    stage(reusedBefore, { cert: victim.certPem, key: victim.keyPem });
    // The same live pid, on a folder changed after it started: its run may be going on.
    const going = `.sutazai-certificate-${pid}-${machineTag()}-Ef56Gh`;
    stage(going, { cert: vera.certPem, key: vera.keyPem }, new Date(Date.now() + 5_000));
    // A dead pid of another machine, changed less than an hour ago: that machine's run cannot be asked.
    const elsewhere = `.sutazai-certificate-${await deadPid()}-${machineTag() === 'othermachine' ? 'othermachine2' : 'othermachine'}-Ij78Kl`;
    stage(elsewhere, { cert: vera.certPem, key: vera.keyPem }, new Date(Date.now() - 60_000));
    const swept = sweepStaleStaging(dir, Date.now() + 10_000);
    expect(swept.removed.sort()).toEqual([reused, reusedBefore].sort());
    expect(swept.serials.sort()).toEqual([serialOf(vera), serialOf(victim)].sort());
    expect(fs.readdirSync(dir).sort()).toEqual([elsewhere, going].sort());
  });
});
