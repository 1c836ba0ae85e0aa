import type { FileHandle } from 'node:fs/promises';
import { BLOCK_SIZE, encodeHeader, paddingAfter } from './tar-header';
import { TarFormatError } from './tar-format-error';

/** Where the archive's bytes go, in order. */
export type TarSink = (chunk: Buffer) => Promise<void>;

/** GNU tar's default record (20 blocks): the archive is padded to a whole number of them. */
const RECORD_SIZE = 20 * BLOCK_SIZE;
const ZEROS = Buffer.alloc(RECORD_SIZE);

/**
 * Writes a POSIX ustar archive: regular files and directories only, owned by root (0/0),
 * with the modes and times given. The output is what `tar --format=ustar` writes, so GNU
 * tar, BusyBox tar and bsdtar unpack it. Files are streamed in, never held whole.
 */
export class TarWriter {
  private written = 0;
  private finished = false;

  constructor(private readonly sink: TarSink) {}

  /** Bytes written so far. */
  get size(): number {
    return this.written;
  }

  async addDirectory(name: string, options: { mode: number; mtime: number }): Promise<void> {
    await this.put(
      encodeHeader({ name: name.endsWith('/') ? name : `${name}/`, type: 'directory', mode: options.mode, size: 0, mtime: options.mtime }),
    );
  }

  /**
   * Adds a file of exactly `size` bytes from `content`; a source that yields more or fewer
   * (a file that changed while it was read) is refused, since the header already said how long.
   */
  async addFile(
    name: string,
    options: { mode: number; mtime: number; size: number },
    content: AsyncIterable<Buffer> | Buffer,
  ): Promise<void> {
    await this.put(encodeHeader({ name, type: 'file', mode: options.mode, size: options.size, mtime: options.mtime }));
    let copied = 0;
    for await (const chunk of Buffer.isBuffer(content) ? [content] : content) {
      copied += chunk.length;
      if (copied > options.size) break;
      await this.put(chunk);
    }
    if (copied !== options.size) {
      throw new TarFormatError(
        `"${name}" ${copied > options.size ? 'grew' : 'shrank'} while it was being written (expected ${options.size} bytes)`,
      );
    }
    await this.put(ZEROS.subarray(0, paddingAfter(options.size)));
  }

  /** The end-of-archive marker (two zero blocks), then zeros up to a whole record. */
  async finish(): Promise<void> {
    if (this.finished) return;
    const end = this.written + 2 * BLOCK_SIZE;
    const total = Math.ceil(end / RECORD_SIZE) * RECORD_SIZE;
    let left = total - this.written;
    while (left > 0) {
      const n = Math.min(left, RECORD_SIZE);
      await this.put(ZEROS.subarray(0, n));
      left -= n;
    }
    this.finished = true;
  }

  private async put(chunk: Buffer): Promise<void> {
    if (this.finished) throw new TarFormatError('the archive is already finished');
    if (chunk.length === 0) return;
    await this.sink(chunk);
    this.written += chunk.length;
  }
}

/** A sink that appends to an open file. */
export function fileSink(handle: FileHandle): TarSink {
  return async (chunk) => {
    let offset = 0;
    while (offset < chunk.length) {
      const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
      offset += bytesWritten;
    }
  };
}
