import { BLOCK_SIZE, decodeHeader, isZeroBlock, paddingAfter, type TarHeader } from './tar-header';
import { TarFormatError } from './tar-format-error';

export interface TarEntry extends TarHeader {
  /** Where the entry's header starts in the archive; its data follows 512 bytes later. */
  headerOffset: number;
  /**
   * The entry's bytes, in the pieces they arrive in. Read it before asking for the next
   * entry or leave it: whatever is left unread is skipped.
   */
  body: AsyncIterable<Buffer>;
}

/**
 * Reads a ustar archive from a stream of bytes, one entry at a time, never holding more
 * than one chunk of it: a 100 MB file inside is hashed piece by piece. Every byte is
 * accounted for: a truncated archive, a bad header checksum, non-zero padding and data
 * after the end-of-archive marker are refused with the offset where they were found.
 */
export async function* readTar(source: AsyncIterable<Buffer | Uint8Array>): AsyncGenerator<TarEntry, void, undefined> {
  const input = new ByteCursor(source[Symbol.asyncIterator]());
  for (;;) {
    const headerOffset = input.position;
    const block = await input.readExactly(BLOCK_SIZE);
    if (block.length === 0) {
      throw new TarFormatError('the archive ends without its end-of-archive marker; it is truncated', headerOffset);
    }
    if (block.length < BLOCK_SIZE) {
      throw new TarFormatError(`the archive ends inside a header (${block.length} of ${BLOCK_SIZE} bytes); it is truncated`, headerOffset);
    }
    if (isZeroBlock(block)) {
      await readEndOfArchive(input, headerOffset);
      return;
    }
    const header = decodeHeader(block, headerOffset);
    let unread = header.size;
    const name = header.name;
    async function* body(): AsyncGenerator<Buffer> {
      while (unread > 0) {
        const chunk = await input.readUpTo(unread);
        if (chunk.length === 0) {
          throw new TarFormatError(
            `the archive ends inside "${name}" (${header.size - unread} of ${header.size} bytes present); it is truncated`,
            input.position,
          );
        }
        unread -= chunk.length;
        yield chunk;
      }
    }
    yield { ...header, headerOffset, body: body() };
    // Skip what the consumer did not read, then the padding, which must be zeros: a flipped
    // byte there is covered by no checksum, so it is refused like any other damage.
    for await (const chunk of body()) void chunk;
    const padding = paddingAfter(header.size);
    const paddingOffset = input.position;
    const pad = await input.readExactly(padding);
    if (pad.length < padding) throw new TarFormatError(`the archive ends in the padding after "${name}"; it is truncated`, paddingOffset);
    if (!isZeroBlock(pad)) throw new TarFormatError(`the padding after "${name}" is not zeros; the archive is damaged`, paddingOffset);
  }
}

/** After the first zero block: a second one, then nothing but zeros (record padding). */
async function readEndOfArchive(input: ByteCursor, firstOffset: number): Promise<void> {
  const second = await input.readExactly(BLOCK_SIZE);
  if (second.length < BLOCK_SIZE) {
    throw new TarFormatError('the archive ends inside its end-of-archive marker; it is truncated', firstOffset);
  }
  if (!isZeroBlock(second)) {
    throw new TarFormatError('a zero block is followed by data; the archive is damaged', firstOffset);
  }
  for (;;) {
    const offset = input.position;
    const chunk = await input.readUpTo(1 << 20);
    if (chunk.length === 0) return;
    if (!isZeroBlock(chunk))
      throw new TarFormatError('there is data after the end-of-archive marker', offset + chunk.findIndex((b) => b !== 0));
  }
}

/** Pulls bytes from an async iterator: whole blocks for headers, any size for bodies. */
class ByteCursor {
  /** Bytes handed out so far, i.e. the offset of the next byte. */
  position = 0;
  private pending: Buffer = Buffer.alloc(0);
  private ended = false;

  constructor(private readonly source: AsyncIterator<Buffer | Uint8Array>) {}

  /** Exactly `n` bytes, or fewer only when the stream ended. */
  async readExactly(n: number): Promise<Buffer> {
    while (this.pending.length < n && (await this.pull()));
    return this.take(Math.min(n, this.pending.length));
  }

  /** Between 1 and `n` bytes, or none when the stream ended. */
  async readUpTo(n: number): Promise<Buffer> {
    if (this.pending.length === 0) await this.pull();
    return this.take(Math.min(n, this.pending.length));
  }

  private take(n: number): Buffer {
    const out = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(n);
    this.position += n;
    return out;
  }

  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.source.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    // Only a header that straddles two chunks ever joins them, and it is under 512 bytes.
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    return true;
  }
}
