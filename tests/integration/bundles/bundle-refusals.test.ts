import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, type ErrorCode } from '../../../electron/contract';
import type { BundleService } from '../../../electron/backend/bundles/bundle-service';
import type { BuiltBundle } from '../../../electron/backend/bundles/build-bundle';
import { openStore, type Store } from '../../../electron/backend/store/open-store';
import { encodeHeader, MAX_ENTRY_SIZE } from '../../../electron/backend/bundles/tar-header';
import {
  bundleServiceOn,
  cutAfterHeader,
  dataOffsetOf,
  flipByte,
  makeBundleKit,
  resignedCopy,
  rewriteArchive,
  type BundleKit,
} from '../../support/bundle-kit';

let kit: BundleKit;
let good: BuiltBundle;
let store: Store;
let service: BundleService;
const dataDir = () => path.join(kit.dir, 'data');

beforeAll(async () => {
  kit = await makeBundleKit();
  good = await kit.build('good');
  store = openStore({ dataDir: dataDir() });
  service = bundleServiceOn(store, dataDir());
});

afterAll(() => {
  store?.close();
  kit?.remove();
});

/** A copy of the good bundle to damage. */
function copyOfGood(name: string): string {
  const file = path.join(kit.dir, `${name}.sutazai-bundle`);
  fs.copyFileSync(good.file, file);
  return file;
}

function storedNothing(): void {
  expect(store.db.prepare('SELECT count(*) AS n FROM bundles').get()).toEqual({ n: 0 });
  expect(store.db.prepare('SELECT count(*) AS n FROM bundle_signing_keys').get()).toEqual({ n: 0 });
  const dir = path.join(dataDir(), 'bundles');
  expect(fs.existsSync(dir) ? fs.readdirSync(dir) : []).toEqual([]);
}

/** Refused on verify and on import (even with the key confirmed), storing nothing. */
async function refused(file: string, code: ErrorCode): Promise<ApiError> {
  const onVerify = await service.verify(file).catch((e: unknown) => e);
  expect(onVerify).toBeInstanceOf(ApiError);
  expect((onVerify as ApiError).code).toBe(code);
  const onImport = await service.import(file, { trustKey: kit.key.fingerprint }).catch((e: unknown) => e);
  expect((onImport as ApiError).code).toBe(code);
  expect((onImport as ApiError).remedy.length).toBeGreaterThan(20);
  storedNothing();
  return onImport as ApiError;
}

describe('a good bundle', () => {
  it('verifies, names its signer as not trusted yet, and stores nothing', async () => {
    const result = await service.verify(good.file);
    expect(result).toMatchObject({
      name: 'sutazai',
      version: kit.checkoutVersion,
      sha256: good.sha256,
      sizeBytes: fs.statSync(good.file).size,
      architectures: ['linux-x64'],
      profiles: ['agent', 'agent-gpu', 'core'],
      compatibility: { controlCenter: '>=0.1.0 <0.2.0', runtime: kit.checkoutVersion },
      signer: { fingerprint: kit.key.fingerprint, label: 'test release key', trusted: false, trustedAt: null },
    });
    expect(result.components).toEqual({
      runtime: { version: kit.checkoutVersion, dependsOn: [] },
      core: { version: kit.checkoutVersion, dependsOn: ['runtime'] },
      agent: { version: kit.checkoutVersion, dependsOn: ['runtime', 'core'] },
    });
    storedNothing();
  });
});

describe('refusals, each with its reason, before anything is stored', () => {
  it('one flipped byte in a payload file: a checksum mismatch naming the file', async () => {
    const file = copyOfGood('flipped-payload');
    const { offset, size } = await dataOffsetOf(file, 'node/linux-x64/node');
    flipByte(file, offset + Math.floor(size / 2));
    const error = await refused(file, 'BUNDLE_CHECKSUM_MISMATCH');
    expect(error.message).toMatch(
      /^node\/linux-x64\/node in the bundle .* does not match its checksum: expected sha256 [0-9a-f]{64}, found [0-9a-f]{64}\.$/,
    );
  });

  it('one flipped byte in bundle.json: the signature no longer matches', async () => {
    const file = copyOfGood('flipped-manifest');
    const { offset } = await dataOffsetOf(file, 'bundle.json');
    flipByte(file, offset + 20);
    const error = await refused(file, 'BUNDLE_SIGNATURE_INVALID');
    expect(error.message).toMatch(/does not match bundle.json and checksums.sha256/);
  });

  it('one flipped byte in a tar header: damaged, with the offset', async () => {
    const file = copyOfGood('flipped-header');
    const { offset } = await dataOffsetOf(file, 'runtime/core.cjs');
    flipByte(file, offset - 512 + 5);
    const error = await refused(file, 'BUNDLE_CORRUPT');
    expect(error.message).toMatch(/bad checksum .*at byte \d+/);
  });

  it('a truncated file: damaged, and says truncated', async () => {
    const file = copyOfGood('truncated');
    fs.truncateSync(file, Math.floor(fs.statSync(file).size * 0.6));
    const error = await refused(file, 'BUNDLE_CORRUPT');
    expect(error.message).toMatch(/truncated/);
    expect(error.remedy).toMatch(/Copy the bundle again/);
  });

  it('a missing file: named', async () => {
    const file = path.join(kit.dir, 'missing.sutazai-bundle');
    await rewriteArchive(good.file, file, { drop: 'runtime/agent.cjs' });
    const error = await refused(file, 'BUNDLE_FILE_MISSING');
    expect(error.message).toMatch(/lacks runtime\/agent.cjs, which checksums.sha256 lists/);
  });

  it('an extra file: named, as covered by no signature', async () => {
    const file = path.join(kit.dir, 'extra.sutazai-bundle');
    await rewriteArchive(good.file, file, { add: { name: 'runtime/backdoor.cjs', content: Buffer.from('process.exit(0)\n') } });
    const error = await refused(file, 'BUNDLE_UNEXPECTED_FILE');
    expect(error.message).toMatch(/holds runtime\/backdoor.cjs, which checksums.sha256 does not list/);
  });

  it('an unlisted 8 GiB entry: refused at its header, before a byte of its data is read', async () => {
    // The file stops right after the header: reading its data would fail as truncated instead.
    const file = path.join(kit.dir, 'huge-unlisted.sutazai-bundle');
    await cutAfterHeader(good.file, file, {
      append: encodeHeader({ name: 'runtime/filler.bin', type: 'file', mode: 0o644, size: MAX_ENTRY_SIZE, mtime: 0 }),
    });
    const error = await refused(file, 'BUNDLE_UNEXPECTED_FILE');
    expect(error.message).toMatch(
      /holds runtime\/filler.bin, which checksums.sha256 does not list, so no signature covers it \(refused at its header, before its 8589934591 bytes were read\)/,
    );
  });

  it('a listed file whose header claims more than bundle.json lists: refused at its header', async () => {
    const file = path.join(kit.dir, 'huge-listed.sutazai-bundle');
    await cutAfterHeader(good.file, file, {
      name: 'node/linux-x64/node',
      change: (block) => block.write(`${MAX_ENTRY_SIZE.toString(8)}\0`, 124, 'latin1'),
    });
    const error = await refused(file, 'BUNDLE_CHECKSUM_MISMATCH');
    expect(error.message).toMatch(
      /^node\/linux-x64\/node in the bundle .* claims 8589934591 bytes in its tar header, and the signed bundle.json lists 262144; it was refused before its data was read\.$/,
    );
  });

  it("headers the hosts' tars read differently or that are not plain files: damaged, with the reason", async () => {
    const cases: Array<[string, (block: Buffer) => void, RegExp]> = [
      // BusyBox joins a GNU header's prefix field to the name ("etc/..."); GNU tar does not.
      [
        'gnu-prefix',
        (b) => void (b.write('ustar  \0', 257, 'latin1'), b.write('etc', 345, 'latin1')),
        /GNU tar's own format, not POSIX ustar/,
      ],
      ['pax', (b) => void b.write('x', 156, 'latin1'), /is a pax extended header/],
      ['long-name', (b) => void b.write('L', 156, 'latin1'), /is a GNU long name/],
      ['symlink', (b) => void (b.write('2', 156, 'latin1'), b.write('/etc/shadow', 157, 'latin1')), /is a symbolic link/],
      [
        'base-256',
        (b) => void (b.fill(0, 124, 136), (b[124] = 0x80), b.writeUInt32BE(2 ** 31, 132)),
        /size field uses GNU's base-256 form/,
      ],
      ['owner', (b) => void b.write('0001750\0', 108, 'latin1'), /differs in its uid field/],
    ];
    for (const [name, change, reason] of cases) {
      const file = path.join(kit.dir, `header-${name}.sutazai-bundle`);
      await cutAfterHeader(good.file, file, { name: 'runtime/core.cjs', change });
      expect((await refused(file, 'BUNDLE_CORRUPT')).message, name).toMatch(reason);
    }
  });

  it('a second copy of a file: refused, since unpacking would keep the unchecked one', async () => {
    const file = path.join(kit.dir, 'duplicate.sutazai-bundle');
    await rewriteArchive(good.file, file, { add: { name: 'runtime/core.cjs', content: Buffer.from('evil()\n') } });
    const error = await refused(file, 'BUNDLE_UNEXPECTED_FILE');
    expect(error.message).toMatch(/runtime\/core.cjs, which appears twice/);
  });

  it('a bundle that needs a newer control center: says which version is needed', async () => {
    const newer = await kit.build('needs-newer', { controlCenterRange: '>=0.3.0 <0.4.0' });
    const error = await refused(newer.file, 'BUNDLE_INCOMPATIBLE');
    expect(error.message).toMatch(/needs a control center >=0.3.0 <0.4.0, and this one is 0.1.0/);
    expect(error.remedy).toMatch(/>=0.3.0 <0.4.0/);
  });

  it('a bundle of format 1, which lists no sizes: incompatible, to be built again', async () => {
    const file = path.join(kit.dir, 'format-1.sutazai-bundle');
    await resignedCopy(good.file, file, kit.key, (manifest) => {
      manifest.format = 1;
      delete manifest.sizes;
    });
    const error = await refused(file, 'BUNDLE_INCOMPATIBLE');
    expect(error.message).toMatch(
      /it is in bundle format 1, which does not list the size of each file, and this control center imports format 2/,
    );
    expect(error.remedy).toMatch(/Build the bundle again/);
  });

  it('signed sizes that leave out a listed file: bundle.json is invalid', async () => {
    const file = path.join(kit.dir, 'sizes-short.sutazai-bundle');
    await resignedCopy(good.file, file, kit.key, (manifest) => delete (manifest.sizes as Record<string, number>)['runtime/agent.cjs']);
    const error = await refused(file, 'BUNDLE_MANIFEST_INVALID');
    expect(error.message).toMatch(/sizes lists no size for runtime\/agent.cjs, which checksums.sha256 lists/);
  });

  it('a bundle carrying a runtime this control center cannot manage', async () => {
    const future = await kit.build('future-runtime', { runtimeVersion: '0.9.0' });
    const error = await refused(future.file, 'BUNDLE_INCOMPATIBLE');
    expect(error.message).toMatch(/carries runtime 0.9.0/);
  });

  it('something that is not a bundle, and a file that is not there', async () => {
    const text = path.join(kit.dir, 'notes.txt');
    fs.writeFileSync(text, 'hello\n'.repeat(200));
    expect((await refused(text, 'BUNDLE_CORRUPT')).message).toMatch(/not a tar archive/);
    const absent = await service.verify(path.join(kit.dir, 'absent.sutazai-bundle')).catch((e: unknown) => e);
    expect(absent).toMatchObject({ code: 'BUNDLE_UNREADABLE', message: expect.stringMatching(/does not exist/) });
  });

  it('a bundle signed by an untrusted key: refused with its fingerprint until that exact key is confirmed', async () => {
    const stranger = kit.newKey('stranger');
    const signed = await kit.build('stranger', { key: stranger, keyLabel: 'someone else' });
    const bare = await service.import(signed.file).catch((e: unknown) => e);
    expect(bare).toMatchObject({ code: 'BUNDLE_KEY_UNKNOWN', message: expect.stringContaining(stranger.fingerprint) });
    // The window's words name the page; the command line's the flag.
    expect((bare as ApiError).remedy).toContain('Bundles page');
    expect((bare as ApiError).remedy).not.toContain('sutazai');
    expect((bare as ApiError).cliRemedy).toContain(`--trust-key ${stranger.fingerprint}`);
    const wrong = await service.import(signed.file, { trustKey: kit.key.fingerprint }).catch((e: unknown) => e);
    expect(wrong).toMatchObject({
      code: 'BUNDLE_KEY_UNKNOWN',
      message: expect.stringContaining(`not by ${kit.key.fingerprint}, the key you confirmed`),
    });
    storedNothing();
  });
});
