import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, type ApiClient } from '../../../electron/contract';
import type { BuiltBundle } from '../../../electron/backend/bundles/build-bundle';
import { startTestBackend, type RunningBackend } from '../../support/backend-harness';
import { makeBundleKit, type BundleKit } from '../../support/bundle-kit';

// The API as the desktop app and the command line use it (a path on the backend's machine:
// web mode uploads the file instead, tests/integration/server/page-paths.test.ts): the real
// backend, a real SQLite file. Tests run the backend from source, whose version is the dev marker 0.0.0-dev, so
// these bundles admit any control center ("*"); bundle-refusals covers the range check.
let kit: BundleKit;
let running: RunningBackend;
let client: ApiClient;
let first: BuiltBundle;

beforeAll(async () => {
  kit = await makeBundleKit();
  first = await kit.build('first', { controlCenterRange: '*' });
  running = await startTestBackend({ sampleLocalHost: false, probeAtStart: false });
  client = running.backend.openClient('bundle-import');
});

afterAll(async () => {
  client?.close();
  await running?.stop();
  kit?.remove();
});

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('importing bundles through the API', () => {
  it('asks for the unknown key, imports once it is confirmed, and lists the bundle', async () => {
    const verified = await client.call('bundles.verify', { path: first.file });
    expect(verified.signer).toEqual({ fingerprint: kit.key.fingerprint, label: 'test release key', trusted: false, trustedAt: null });

    const unconfirmed = await client.call('bundles.import', { path: first.file }).catch((e: unknown) => e);
    expect(unconfirmed).toBeInstanceOf(ApiError);
    expect(unconfirmed).toMatchObject({ code: 'BUNDLE_KEY_UNKNOWN', message: expect.stringContaining(kit.key.fingerprint) });
    expect(await client.call('bundles.list', {})).toEqual([]);
    expect(fs.existsSync(path.join(running.dataDir, 'bundles'))).toBe(false);

    const imported = await client.call('bundles.import', { path: first.file, trustKey: kit.key.fingerprint });
    expect(imported).toMatchObject({ alreadyImported: false, keyTrusted: true });
    expect(imported.bundle).toMatchObject({
      name: 'sutazai',
      sha256: first.sha256,
      sizeBytes: first.sizeBytes,
      signer: { fingerprint: kit.key.fingerprint, label: 'test release key' },
    });
    // The copy lives in the data directory, byte for byte the bundle that was verified.
    expect(path.dirname(imported.bundle.path)).toBe(path.join(running.dataDir, 'bundles'));
    expect(sha256(imported.bundle.path)).toBe(first.sha256);
    expect(fs.readdirSync(path.join(running.dataDir, 'bundles'))).toEqual([path.basename(imported.bundle.path)]);
    // For the data directory's user alone, whatever mode the source file had.
    if (process.platform !== 'win32') {
      expect((fs.statSync(path.join(running.dataDir, 'bundles')).mode & 0o777).toString(8)).toBe('700');
      expect((fs.statSync(imported.bundle.path).mode & 0o777).toString(8)).toBe('600');
    }

    expect(await client.call('bundles.list', {})).toEqual([imported.bundle]);
    const keys = await client.call('bundles.trustedKeys', {});
    expect(keys).toEqual([
      { fingerprint: kit.key.fingerprint, label: 'test release key', trustedAt: expect.any(Number), trustSource: 'test' },
    ]);
    expect((await client.call('bundles.verify', { path: first.file })).signer.trusted).toBe(true);
  });

  it('says so when the same bundle is imported again, and changes nothing', async () => {
    const before = await client.call('bundles.list', {});
    const again = await client.call('bundles.import', { path: first.file });
    expect(again).toEqual({ bundle: before[0], alreadyImported: true, keyTrusted: false });
    expect(await client.call('bundles.list', {})).toEqual(before);
  });

  it('puts back a stored copy that went missing when the bundle is imported again', async () => {
    const [stored] = await client.call('bundles.list', {});
    fs.rmSync(stored!.path);
    const again = await client.call('bundles.import', { path: first.file });
    expect(again.alreadyImported).toBe(true);
    expect(sha256(stored!.path)).toBe(first.sha256);
  });

  it('imports a second version signed by the trusted key without asking, newest first', async () => {
    const second = await kit.build('second', { controlCenterRange: '*', version: '0.1.1' });
    const imported = await client.call('bundles.import', { path: second.file });
    expect(imported).toMatchObject({ alreadyImported: false, keyTrusted: false, bundle: { version: '0.1.1' } });
    const list = await client.call('bundles.list', {});
    expect(list.map((b) => b.version)).toEqual(['0.1.1', kit.checkoutVersion]);
    expect(await client.call('bundles.trustedKeys', {})).toHaveLength(1);
  });

  it('refuses malformed parameters at the contract', async () => {
    const error = await client.call('bundles.import', { path: first.file, trustKey: 'not-a-fingerprint' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'BAD_PARAMS' });
  });
});
