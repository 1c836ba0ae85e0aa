import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { buildBundle, type BuildBundleOptions, type BuiltBundle } from '../../electron/backend/bundles/build-bundle';
import { createBundleService, type BundleService, type BundleServiceDeps } from '../../electron/backend/bundles/bundle-service';
import { buildRuntimeInto, checkoutSources, findCheckout } from '../../electron/backend/bundles/checkout-sources';
import { signBundle } from '../../electron/backend/bundles/bundle-signature';
import { formatChecksums, parseChecksums } from '../../electron/backend/bundles/checksums-file';
import { generateSigningKey, type SigningKey } from '../../electron/backend/bundles/signing-key';
import { BLOCK_SIZE, paddingAfter } from '../../electron/backend/bundles/tar-header';
import { readTar } from '../../electron/backend/bundles/tar-reader';
import { TarWriter, fileSink } from '../../electron/backend/bundles/tar-writer';
import { createBundleKeysRepo } from '../../electron/backend/store/bundle-keys-repo';
import { createBundlesRepo } from '../../electron/backend/store/bundles-repo';
import type { Store } from '../../electron/backend/store/open-store';
import { makeTempDir } from './temp-dir';

/**
 * What the bundle tests share: the real runtime built once by the checkout's own scripts,
 * a signing key, and a small stand-in for the Node binary (a real ELF header, so the
 * builder's architecture check passes) that keeps most bundles a few MB.
 */
export interface BundleKit {
  dir: string;
  runtimeDir: string;
  key: SigningKey;
  checkoutVersion: string;
  /** A small file that looks like a Linux executable for `arch`. */
  fakeNode(arch: 'linux-x64' | 'linux-arm64'): string;
  build(name: string, overrides?: Partial<BuildBundleOptions>): Promise<BuiltBundle>;
  newKey(name: string): SigningKey;
  remove(): void;
}

export async function makeBundleKit(): Promise<BundleKit> {
  const temp = makeTempDir('sutazai-bundle-test-');
  const runtimeDir = path.join(temp.path, 'runtime');
  let checkout: ReturnType<typeof findCheckout>;
  let key: SigningKey;
  try {
    checkout = findCheckout();
    await buildRuntimeInto(checkout, runtimeDir, () => undefined);
    key = generateSigningKey(path.join(temp.path, 'release-key.pem'));
  } catch (error) {
    // A kit that could not be made leaves nothing behind.
    temp.remove();
    throw error;
  }
  const fakes = new Map<string, string>();
  const kit: BundleKit = {
    dir: temp.path,
    runtimeDir,
    key,
    checkoutVersion: checkout.version,
    fakeNode(arch) {
      const existing = fakes.get(arch);
      if (existing) return existing;
      const file = path.join(temp.path, `fake-node-${arch}`);
      const bytes = Buffer.alloc(256 * 1024, 0x90);
      Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]).copy(bytes, 0);
      bytes.fill(0, 8, 18);
      bytes.writeUInt16LE(arch === 'linux-x64' ? 0x3e : 0xb7, 18);
      fs.writeFileSync(file, bytes, { mode: 0o755 });
      fakes.set(arch, file);
      return file;
    },
    build(name, overrides = {}) {
      return buildBundle({
        out: path.join(temp.path, `${name}.sutazai-bundle`),
        key,
        keyLabel: 'test release key',
        sources: checkoutSources(checkout, runtimeDir, { 'linux-x64': kit.fakeNode('linux-x64') }),
        version: checkout.version,
        runtimeVersion: checkout.version,
        controlCenterRange: '>=0.1.0 <0.2.0',
        ...overrides,
      });
    },
    newKey(name) {
      return generateSigningKey(path.join(temp.path, `${name}.pem`));
    },
    remove: () => temp.remove(),
  };
  return kit;
}

/** Where an entry's bytes start in an archive, found with the reader itself. */
export async function dataOffsetOf(archive: string, name: string): Promise<{ offset: number; size: number }> {
  for await (const entry of readTar(fs.createReadStream(archive))) {
    if (entry.name === name) return { offset: entry.headerOffset + 512, size: entry.size };
  }
  throw new Error(`${name} is not in ${archive}`);
}

/** Flips one bit of the byte at `offset`, in place. */
export function flipByte(file: string, offset: number): void {
  const fd = fs.openSync(file, 'r+');
  try {
    const byte = Buffer.alloc(1);
    fs.readSync(fd, byte, 0, 1, offset);
    byte[0]! ^= 0x01;
    fs.writeSync(fd, byte, 0, 1, offset);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Copies an archive entry by entry through our own writer, leaving out or adding entries:
 * how a bundle with a missing or an extra file is made for the tests.
 */
export async function rewriteArchive(
  from: string,
  to: string,
  change: { drop?: string; add?: { name: string; content: Buffer } },
): Promise<void> {
  const handle = await fs.promises.open(to, 'w');
  try {
    const writer = new TarWriter(fileSink(handle));
    for await (const entry of readTar(fs.createReadStream(from))) {
      if (entry.name === change.drop) continue;
      if (entry.type === 'directory') await writer.addDirectory(entry.name, { mode: entry.mode, mtime: entry.mtime });
      else await writer.addFile(entry.name, { mode: entry.mode, mtime: entry.mtime, size: entry.size }, entry.body);
    }
    if (change.add) await writer.addFile(change.add.name, { mode: 0o644, mtime: 0, size: change.add.content.length }, change.add.content);
    await writer.finish();
  } finally {
    await handle.close();
  }
}

/** Writes a tar header's checksum for its bytes as they are now (as GNU tar does: six octal digits, NUL, space), in place. */
export function resealHeader(block: Buffer): Buffer {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block.subarray(0, BLOCK_SIZE)) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

/**
 * A copy of `from` that stops right after one crafted header, with no data behind it (a
 * header may claim 8 GiB in a file of a few MB): `header` is appended after the last entry,
 * or, given `name`, replaces that entry's header, changed by `change` and resealed.
 */
export async function cutAfterHeader(
  from: string,
  to: string,
  at: { append: Buffer } | { name: string; change: (block: Buffer) => void },
): Promise<void> {
  const bytes = fs.readFileSync(from);
  let end = 0;
  for await (const entry of readTar(fs.createReadStream(from))) {
    if ('name' in at && entry.name === at.name) {
      const block = Buffer.from(bytes.subarray(entry.headerOffset, entry.headerOffset + BLOCK_SIZE));
      at.change(block);
      fs.writeFileSync(to, Buffer.concat([bytes.subarray(0, entry.headerOffset), resealHeader(block)]));
      return;
    }
    end = entry.headerOffset + BLOCK_SIZE + entry.size + paddingAfter(entry.size);
  }
  if ('name' in at) throw new Error(`${at.name} is not in ${from}`);
  fs.writeFileSync(to, Buffer.concat([bytes.subarray(0, end), at.append]));
}

/** The real bundle service on a real store, as a control center of version 0.1.0 runs it. */
export function bundleServiceOn(store: Store, dataDir: string, logger?: BundleServiceDeps['logger']): BundleService {
  return createBundleService({
    dataDir,
    keys: createBundleKeysRepo(store.db),
    bundles: createBundlesRepo(store.db),
    transaction: (fn) => store.db.transaction(fn)(),
    controlCenterVersion: '0.1.0',
    now: Date.now,
    actor: 'test',
    ...(logger ? { logger } : {}),
  });
}

/**
 * A copy of a bundle whose bundle.json is changed by `change` and then signed again with
 * `key`, as a builder of another version (or a faulty one) would have made it: the
 * signature holds, so what is refused is what bundle.json says.
 */
export async function resignedCopy(
  from: string,
  to: string,
  key: SigningKey,
  change: (manifest: Record<string, unknown>) => void,
): Promise<void> {
  const entries: Array<{ name: string; type: 'file' | 'directory'; mode: number; mtime: number; content: Buffer }> = [];
  for await (const entry of readTar(fs.createReadStream(from))) {
    const parts: Buffer[] = [];
    for await (const part of entry.body) parts.push(Buffer.from(part));
    entries.push({ name: entry.name, type: entry.type, mode: entry.mode, mtime: entry.mtime, content: Buffer.concat(parts) });
  }
  const byName = (name: string) => entries.find((e) => e.name === name)!;
  const manifest = JSON.parse(byName('bundle.json').content.toString('utf8')) as Record<string, unknown>;
  change(manifest);
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  const listed = parseChecksums(byName('checksums.sha256').content.toString('utf8'));
  if (!listed.ok) throw new Error(listed.reason);
  listed.files.set('bundle.json', createHash('sha256').update(manifestBytes).digest('hex'));
  const checksumsBytes = Buffer.from(formatChecksums([...listed.files].map(([p, sha256]) => ({ path: p, sha256 }))));
  byName('bundle.json').content = manifestBytes;
  byName('checksums.sha256').content = checksumsBytes;
  byName('signature.ed25519').content = Buffer.from(signBundle(key.privateKey, 'test release key', manifestBytes, checksumsBytes));
  const handle = await fs.promises.open(to, 'w');
  try {
    const writer = new TarWriter(fileSink(handle));
    for (const e of entries) {
      if (e.type === 'directory') await writer.addDirectory(e.name, { mode: e.mode, mtime: e.mtime });
      else await writer.addFile(e.name, { mode: e.mode, mtime: e.mtime, size: e.content.length }, e.content);
    }
    await writer.finish();
  } finally {
    await handle.close();
  }
}
