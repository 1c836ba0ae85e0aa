import { TarFormatError } from './tar-format-error';

/**
 * The POSIX ustar header (IEEE 1003.1-1988, 512 bytes), the one format GNU tar, BusyBox
 * tar and bsdtar all read. Only regular files and directories exist here: links, devices
 * and the GNU/pax extensions (long names, extended headers) are refused, so an archive can
 * never write outside the folder it is unpacked into or smuggle a link through a check.
 *
 * The reader accepts exactly one form of header: the one encodeHeader writes. The tars on
 * the hosts differ in what they make of the rest (BusyBox joins a GNU header's prefix
 * field to the name, which GNU tar reads as access times; base-256 numbers; a name with
 * bytes after its NUL), so a header that would not be written byte for byte by our own
 * writer is refused: what was verified is then what every tar unpacks.
 */

export const BLOCK_SIZE = 512;
/** The largest size an 11-digit octal field holds (8 GiB - 1). */
export const MAX_ENTRY_SIZE = 0o77777777777;
const NAME_BYTES = 100;
const PREFIX_BYTES = 155;
const MAX_PATH_BYTES = NAME_BYTES + 1 + PREFIX_BYTES;

export type TarEntryType = 'file' | 'directory';

export interface TarHeader {
  /** Relative path; a directory's ends with '/'. */
  name: string;
  type: TarEntryType;
  /** Permission bits only (0o7777 at most). */
  mode: number;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
}

// Field offsets and lengths of the ustar header.
const F = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  checksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 6],
  version: [263, 2],
  uname: [265, 32],
  gname: [297, 32],
  devmajor: [329, 8],
  devminor: [337, 8],
  prefix: [345, 155],
} as const;

const TYPE_NAMES: Record<string, string> = {
  '1': 'a hard link',
  '2': 'a symbolic link',
  '3': 'a character device',
  '4': 'a block device',
  '6': 'a FIFO',
  '7': 'a contiguous file',
  x: 'a pax extended header',
  g: 'a pax global header',
  L: 'a GNU long name',
  K: 'a GNU long link name',
  D: 'a GNU dump directory',
  M: 'a GNU multi-volume continuation',
  S: 'a GNU sparse file',
  V: 'a GNU volume label',
};

/**
 * Checks that a path is relative and stays inside the folder it is unpacked into: no
 * leading '/', no '.' or '..' segment, no empty segment, no NUL or backslash. A directory's
 * name ends with '/'. Returns the reason it is refused, or null.
 */
export function unsafePathReason(name: string, type: TarEntryType): string | null {
  if (name.length === 0) return 'the name is empty';
  if (name.includes('\0')) return 'the name holds a NUL byte';
  if (name.includes('\\')) return 'the name holds a backslash';
  if (name.startsWith('/')) return 'the name is an absolute path';
  if (type === 'directory' && !name.endsWith('/')) return 'a directory name must end with "/"';
  if (type === 'file' && name.endsWith('/')) return 'a file name must not end with "/"';
  const segments = (type === 'directory' ? name.slice(0, -1) : name).split('/');
  for (const segment of segments) {
    if (segment === '') return 'the name has an empty segment ("//")';
    if (segment === '.' || segment === '..') return `the name has a "${segment}" segment`;
  }
  return null;
}

/**
 * Splits a path into ustar's prefix and name fields: up to 100 bytes fit in the name
 * alone; longer ones (up to 255) are cut at a '/' so that each part fits its field.
 */
export function splitPath(name: string): { prefix: string; name: string } {
  const bytes = Buffer.byteLength(name);
  if (bytes <= NAME_BYTES) return { prefix: '', name };
  if (bytes > MAX_PATH_BYTES)
    throw new TarFormatError(`"${name}" is ${bytes} bytes long; ustar holds paths of up to ${MAX_PATH_BYTES} bytes`);
  // The cut may not leave an empty name, so a directory's trailing '/' is never the one used.
  for (let at = name.lastIndexOf('/', name.length - 2); at > 0; at = name.lastIndexOf('/', at - 1)) {
    const prefix = name.slice(0, at);
    const rest = name.slice(at + 1);
    if (Buffer.byteLength(prefix) <= PREFIX_BYTES && Buffer.byteLength(rest) <= NAME_BYTES) return { prefix, name: rest };
  }
  throw new TarFormatError(`"${name}" cannot be split into ustar's 155-byte prefix and 100-byte name at a "/"`);
}

export function encodeHeader(header: TarHeader): Buffer {
  const reason = unsafePathReason(header.name, header.type);
  if (reason) throw new TarFormatError(`refusing to write "${header.name}": ${reason}`);
  if (!Number.isInteger(header.mode) || header.mode < 0 || header.mode > 0o7777)
    throw new TarFormatError(`"${header.name}": mode ${header.mode} is not a permission mode`);
  const size = header.type === 'directory' ? 0 : header.size;
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_ENTRY_SIZE)
    throw new TarFormatError(`"${header.name}": ${size} bytes does not fit a ustar size field`);
  if (!Number.isInteger(header.mtime) || header.mtime < 0 || header.mtime > MAX_ENTRY_SIZE)
    throw new TarFormatError(`"${header.name}": mtime ${header.mtime} does not fit a ustar field`);

  const block = Buffer.alloc(BLOCK_SIZE);
  const { prefix, name } = splitPath(header.name);
  writeString(block, F.name, name);
  writeOctal(block, F.mode, header.mode);
  writeOctal(block, F.uid, 0);
  writeOctal(block, F.gid, 0);
  writeOctal(block, F.size, size);
  writeOctal(block, F.mtime, header.mtime);
  block.write(header.type === 'directory' ? '5' : '0', F.typeflag[0], 'latin1');
  block.write('ustar\0', F.magic[0], 'latin1');
  block.write('00', F.version[0], 'latin1');
  writeString(block, F.uname, 'root');
  writeString(block, F.gname, 'root');
  writeOctal(block, F.devmajor, 0);
  writeOctal(block, F.devminor, 0);
  writeString(block, F.prefix, prefix);
  // The checksum is computed with its own field as spaces, then written as GNU tar does:
  // six octal digits, NUL, space.
  block.fill(0x20, F.checksum[0], F.checksum[0] + F.checksum[1]);
  const sum = unsignedSum(block);
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, F.checksum[0], 'latin1');
  return block;
}

/**
 * Parses one header block. `offset` is where the block starts in the archive, for the
 * error message. Refuses a bad checksum, a block without the POSIX ustar magic, unsafe
 * paths, every entry type other than a regular file or a directory, and any header that
 * is not byte for byte the one encodeHeader writes for what it says.
 */
export function decodeHeader(block: Buffer, offset: number): TarHeader {
  const magic = block.toString('latin1', F.magic[0], F.magic[0] + F.magic[1]);
  const version = block.toString('latin1', F.version[0], F.version[0] + F.version[1]);
  if (magic === 'ustar ' && version === ' \0') {
    throw new TarFormatError(
      "a header in GNU tar's own format, not POSIX ustar (tars disagree on what its prefix field holds); only the plain ustar headers the SutazAI builder writes are read",
      offset,
    );
  }
  if (magic !== 'ustar\0' || version !== '00') {
    throw new TarFormatError(
      offset === 0
        ? 'this is not a tar archive (no ustar header at its start)'
        : 'a header without the ustar magic; the archive is damaged',
      offset,
    );
  }
  const stored = readOctal(block, F.checksum, 'checksum', offset);
  const spaced = Buffer.from(block);
  spaced.fill(0x20, F.checksum[0], F.checksum[0] + F.checksum[1]);
  if (stored !== unsignedSum(spaced)) {
    throw new TarFormatError(
      `a header has a bad checksum (stored ${stored.toString(8)}, computed ${unsignedSum(spaced).toString(8)}); the archive is damaged`,
      offset,
    );
  }
  const prefix = readString(block, F.prefix);
  const rawName = readString(block, F.name);
  let name = prefix ? `${prefix}/${rawName}` : rawName;
  const typeflag = block.toString('latin1', F.typeflag[0], F.typeflag[0] + 1);
  let type: TarEntryType;
  if (typeflag === '0') type = 'file';
  else if (typeflag === '5') type = 'directory';
  else
    throw new TarFormatError(
      `"${name}" is ${TYPE_NAMES[typeflag] ?? (typeflag === '\0' ? 'a pre-POSIX file entry' : `an entry of unknown type "${typeflag}"`)}; only regular files and directories are allowed`,
      offset,
    );
  if (type === 'directory' && !name.endsWith('/')) name += '/';
  const reason = unsafePathReason(name, type);
  if (reason) throw new TarFormatError(`refusing the entry "${name}": ${reason}`, offset);
  const size = readOctal(block, F.size, 'size', offset);
  if (type === 'directory' && size !== 0) throw new TarFormatError(`the directory "${name}" claims ${size} bytes of data`, offset);
  const mode = readOctal(block, F.mode, 'mode', offset);
  if (mode > 0o7777) throw new TarFormatError(`"${name}" has mode ${mode.toString(8)}, more than permission bits`, offset);
  const header: TarHeader = { name, type, mode, size, mtime: readOctal(block, F.mtime, 'mtime', offset) };
  const field = firstForeignField(block, header);
  if (field !== null) {
    throw new TarFormatError(
      `the header of "${name}" differs in its ${field} field from the plain ustar header the SutazAI builder writes; tars on the hosts may read such a header differently, so it is refused`,
      offset,
    );
  }
  return header;
}

/** The first field in which `block` differs from what encodeHeader writes for `header`, or null when it is that very header. */
function firstForeignField(block: Buffer, header: TarHeader): string | null {
  let canonical: Buffer;
  try {
    canonical = encodeHeader(header);
  } catch {
    return 'name';
  }
  if (canonical.equals(block)) return null;
  // The checksum follows every other byte, so it is named only when nothing else differs.
  const fields = Object.entries(F).filter(([field]) => field !== 'checksum');
  for (const [field, [at, length]] of [...fields, ['checksum', F.checksum] as const]) {
    if (!canonical.subarray(at, at + length).equals(block.subarray(at, at + length))) return field;
  }
  return 'padding';
}

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < block.length; i += 1) if (block[i] !== 0) return false;
  return true;
}

/** The zero bytes that bring a body of `size` bytes to a whole number of blocks. */
export function paddingAfter(size: number): number {
  return (BLOCK_SIZE - (size % BLOCK_SIZE)) % BLOCK_SIZE;
}

function writeString(block: Buffer, [at, length]: readonly [number, number], value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new TarFormatError(`"${value}" does not fit a ${length}-byte ustar field`);
  bytes.copy(block, at);
}

function writeOctal(block: Buffer, [at, length]: readonly [number, number], value: number): void {
  // length - 1 digits and a terminating NUL, as GNU and BusyBox tar write them.
  block.write(`${value.toString(8).padStart(length - 1, '0')}\0`, at, 'latin1');
}

function readString(block: Buffer, [at, length]: readonly [number, number]): string {
  const field = block.subarray(at, at + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

function readOctal(block: Buffer, [at, length]: readonly [number, number], what: string, offset: number): number {
  const field = block.subarray(at, at + length);
  if ((field[0]! & 0x80) !== 0) throw new TarFormatError(`the ${what} field uses GNU's base-256 form, which ustar does not allow`, offset);
  const text = field
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .replace(/^ +/, '');
  if (!/^[0-7]+$/.test(text))
    throw new TarFormatError(
      `the ${what} field of a header is not an octal number ("${field.toString('latin1').replace(/\0/g, '\\0')}"); the archive is damaged`,
      offset,
    );
  return Number.parseInt(text, 8);
}

function unsignedSum(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < block.length; i += 1) sum += block[i]!;
  return sum;
}
