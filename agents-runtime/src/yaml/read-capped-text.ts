import fs from 'node:fs';

/** A file over the size its reader accepts; `message` reads "is over the limit of N bytes". */
export class TextTooLargeError extends Error {
  constructor(
    readonly file: string,
    readonly maxBytes: number,
  ) {
    super(`is over the limit of ${maxBytes} bytes`);
    this.name = 'TextTooLargeError';
  }
}

/**
 * Reads a UTF-8 file of at most `maxBytes`, refusing a bigger one after reading one byte
 * past the limit: neither the size the file claims (a FIFO or /proc file claims 0) nor the
 * whole of a huge file is ever relied on. Read errors are thrown as they come (ENOENT, EACCES).
 */
export function readCappedText(file: string, maxBytes: number): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      if (length > maxBytes) throw new TextTooLargeError(file, maxBytes);
      const read = fs.readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    return buffer.toString('utf8', 0, length);
  } finally {
    fs.closeSync(fd);
  }
}
