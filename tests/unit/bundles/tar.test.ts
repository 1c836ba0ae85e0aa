import { describe, expect, it } from 'vitest';
import { TarFormatError } from '../../../electron/backend/bundles/tar-format-error';
import { BLOCK_SIZE, encodeHeader, splitPath } from '../../../electron/backend/bundles/tar-header';
import { readTar } from '../../../electron/backend/bundles/tar-reader';
import { TarWriter } from '../../../electron/backend/bundles/tar-writer';
import { resealHeader } from '../../support/bundle-kit';

interface Item {
  name: string;
  type: 'file' | 'directory';
  mode: number;
  content?: Buffer;
}

async function write(items: Item[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const writer = new TarWriter(async (chunk) => void chunks.push(Buffer.from(chunk)));
  for (const item of items) {
    if (item.type === 'directory') await writer.addDirectory(item.name, { mode: item.mode, mtime: 1_700_000_000 });
    else await writer.addFile(item.name, { mode: item.mode, mtime: 1_700_000_000, size: item.content!.length }, item.content!);
  }
  await writer.finish();
  return Buffer.concat(chunks);
}

/** Feeds the archive in pieces of `chunk` bytes, so headers and bodies straddle chunk boundaries. */
async function* pieces(archive: Buffer, chunk: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < archive.length; at += chunk) yield archive.subarray(at, at + chunk);
}

async function read(archive: Buffer, chunk = 4096): Promise<Item[]> {
  const items: Item[] = [];
  for await (const entry of readTar(pieces(archive, chunk))) {
    const parts: Buffer[] = [];
    for await (const part of entry.body) parts.push(Buffer.from(part));
    items.push({
      name: entry.name,
      type: entry.type,
      mode: entry.mode,
      ...(entry.type === 'file' ? { content: Buffer.concat(parts) } : {}),
    });
  }
  return items;
}

async function refusal(archive: Buffer): Promise<TarFormatError> {
  const error = await read(archive).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TarFormatError);
  return error as TarFormatError;
}

/**
 * A header our writer makes for a small file, changed by `change`, its checksum made right
 * again so that only the change is wrong, then the end-of-archive marker.
 */
function craftedHeader(change: (block: Buffer) => void): Buffer {
  const block = encodeHeader({ name: 'placeholder', type: 'file', mode: 0o644, size: 0, mtime: 0 });
  change(block);
  return Buffer.concat([resealHeader(block), Buffer.alloc(2 * BLOCK_SIZE)]);
}

const longDir = `${'d'.repeat(120)}/${'e'.repeat(30)}`;
const sample: Item[] = [
  { name: 'bundle.json', type: 'file', mode: 0o644, content: Buffer.from('{"a":1}\n') },
  { name: 'bin/', type: 'directory', mode: 0o755 },
  { name: 'bin/tool', type: 'file', mode: 0o755, content: Buffer.alloc(70_000, 7) },
  { name: 'empty', type: 'file', mode: 0o600, content: Buffer.alloc(0) },
  { name: `${longDir}/`, type: 'directory', mode: 0o755 },
  { name: `${longDir}/${'f'.repeat(100)}`, type: 'file', mode: 0o644, content: Buffer.from('deep') },
  { name: 'exactly-one-block', type: 'file', mode: 0o644, content: Buffer.alloc(512, 1) },
];

describe('ustar round trip', () => {
  it('reads back every name, type, mode and byte it wrote, in any chunking', async () => {
    const archive = await write(sample);
    expect(archive.length % (20 * BLOCK_SIZE)).toBe(0);
    for (const chunk of [1, 7, 511, 512, 513, 65_536]) expect(await read(archive, chunk)).toEqual(sample);
    // One-byte pieces make ~80,000 reads: seconds on a busy machine, not a hang.
  }, 60_000);

  it('splits names longer than 100 bytes into prefix and name at a slash, up to 255 bytes', () => {
    expect(splitPath('short/name')).toEqual({ prefix: '', name: 'short/name' });
    const long = `${'a'.repeat(150)}/${'b'.repeat(100)}`;
    expect(splitPath(long)).toEqual({ prefix: 'a'.repeat(150), name: 'b'.repeat(100) });
    expect(() => splitPath(`${'a'.repeat(200)}/${'b'.repeat(60)}`)).toThrow(TarFormatError);
    expect(() => splitPath('x'.repeat(101))).toThrow(/cannot be split/);
  });

  it('refuses to write unsafe or impossible entries', async () => {
    const writer = new TarWriter(async () => undefined);
    for (const name of ['/etc/passwd', '../up', 'a/../../b', 'a//b', './a', 'a\\b']) {
      await expect(writer.addFile(name, { mode: 0o644, mtime: 0, size: 0 }, Buffer.alloc(0))).rejects.toThrow(TarFormatError);
    }
    await expect(writer.addFile('setuid', { mode: 0o104755, mtime: 0, size: 0 }, Buffer.alloc(0))).rejects.toThrow(/not a permission mode/);
    await expect(writer.addFile('liar', { mode: 0o644, mtime: 0, size: 10 }, Buffer.from('short'))).rejects.toThrow(/shrank/);
  });
});

describe('ustar reader refusals', () => {
  it('refuses a file that is not a tar archive', async () => {
    const error = await refusal(Buffer.alloc(4096, 0x41));
    expect(error.message).toMatch(/not a tar archive/);
    expect(error.offset).toBe(0);
  });

  it('refuses an archive cut short anywhere, saying it is truncated', async () => {
    const archive = await write(sample);
    const dataEnd = archive.length - 20 * BLOCK_SIZE; // somewhere before the end marker
    for (const cut of [100, BLOCK_SIZE + 10, 3 * BLOCK_SIZE + 1000, dataEnd]) {
      expect((await refusal(archive.subarray(0, cut))).message).toMatch(/truncated/);
    }
    expect((await refusal(Buffer.alloc(0))).message).toMatch(/truncated/);
  });

  it('refuses a damaged header by its checksum, naming the offset', async () => {
    const archive = Buffer.from(await write(sample));
    archive[BLOCK_SIZE * 2 + 3]! ^= 0x20; // the name of the second entry's header
    const error = await refusal(archive);
    expect(error.message).toMatch(/bad checksum/);
    expect(error.offset).toBe(BLOCK_SIZE * 2);
  });

  it('refuses non-zero padding and data after the end-of-archive marker', async () => {
    const archive = Buffer.from(await write([{ name: 'a', type: 'file', mode: 0o644, content: Buffer.from('abc') }]));
    const padded = Buffer.from(archive);
    padded[BLOCK_SIZE + 100] = 1;
    expect((await refusal(padded)).message).toMatch(/padding after "a"/);
    const trailing = Buffer.from(archive);
    trailing[trailing.length - 1] = 1;
    expect((await refusal(trailing)).message).toMatch(/after the end-of-archive marker/);
  });

  it('refuses links, devices and extension headers, and paths that leave the folder', async () => {
    // A well-formed header with the name and type forced in, checksum recomputed, so only they are wrong.
    const header = (name: string, typeflag: string) =>
      craftedHeader((block) => {
        block.fill(0, 0, 100);
        block.write(name, 0, 'utf8');
        block.write(typeflag, 156, 'latin1');
      });
    expect((await refusal(header('link', '2'))).message).toMatch(/"link" is a symbolic link; only regular files and directories/);
    expect((await refusal(header('hard', '1'))).message).toMatch(/hard link/);
    expect((await refusal(header('dev', '3'))).message).toMatch(/character device/);
    expect((await refusal(header('pax', 'x'))).message).toMatch(/pax extended header/);
    expect((await refusal(header('long', 'L'))).message).toMatch(/GNU long name/);

    const escaping = header('a/../../etc/cron.d/x', '0');
    expect((await refusal(escaping)).message).toMatch(/refusing the entry "a\/..\/..\/etc\/cron.d\/x": the name has a ".." segment/);
  });
  it("reads only the header form its own writer makes: forms the hosts' tars read differently are refused", async () => {
    // GNU's own magic: BusyBox joins the prefix field to the name, GNU tar reads access times there.
    const gnuPrefix = craftedHeader((block) => {
      block.write('ustar  \0', 257, 'latin1');
      block.write('../../etc', 345, 'latin1');
    });
    expect((await refusal(gnuPrefix)).message).toMatch(/GNU tar's own format, not POSIX ustar/);
    // A plain name with a prefix our writer would not have used (it splits only past 100 bytes).
    const prefixed = craftedHeader((block) => block.write('runtime', 345, 'latin1'));
    expect((await refusal(prefixed)).message).toMatch(/header of "runtime\/placeholder" differs in its name field/);
    const hiddenBytes = craftedHeader((block) => block.write('\0.hidden', 11, 'latin1'));
    expect((await refusal(hiddenBytes)).message).toMatch(/"placeholder" differs in its name field/);
    const baseTwo56 = craftedHeader((block) => {
      block.fill(0, 124, 136);
      block[124] = 0x80;
      block.writeUInt32BE(2 ** 31, 132);
    });
    expect((await refusal(baseTwo56)).message).toMatch(/size field uses GNU's base-256 form/);
    const linked = craftedHeader((block) => block.write('/etc/shadow', 157, 'latin1'));
    expect((await refusal(linked)).message).toMatch(/differs in its linkname field/);
    const owned = craftedHeader((block) => block.write('operator', 265, 'latin1'));
    expect((await refusal(owned)).message).toMatch(/differs in its uname field/);
    const oldStyle = craftedHeader((block) => block.write('\0', 156, 'latin1'));
    expect((await refusal(oldStyle)).message).toMatch(/pre-POSIX file entry/);
    const device = craftedHeader((block) => block.write('0000001\0', 329, 'latin1'));
    expect((await refusal(device)).message).toMatch(/differs in its devmajor field/);
    // The untouched header is read: only the changes above are refused.
    const [entry] = await read(craftedHeader(() => undefined));
    expect(entry).toMatchObject({ name: 'placeholder', type: 'file', mode: 0o644 });
  });
});
