import fs from 'node:fs';
import path from 'node:path';

export interface RotatingFileOptions {
  /** The live file; rotated copies are named `<base>.1<ext>` (newest) to `<base>.N<ext>`. */
  file: string;
  maxBytes: number;
  /** How many rotated copies to keep besides the live file. */
  keep: number;
}

/**
 * A pino destination that writes synchronously and rotates by size. Logs here are a
 * few lines a second at most, so synchronous writes cost nothing and never lose the
 * last lines before a crash, which matter most.
 */
export class RotatingFile {
  private fd: number;
  private size: number;

  constructor(private readonly options: RotatingFileOptions) {
    // Logs name hosts, users and paths: for the operator's user only, like the rest of the data directory.
    fs.mkdirSync(path.dirname(options.file), { recursive: true, mode: 0o700 });
    this.fd = openPrivate(options.file);
    this.size = fs.fstatSync(this.fd).size;
  }

  write(chunk: string): void {
    const bytes = Buffer.byteLength(chunk);
    if (this.size > 0 && this.size + bytes > this.options.maxBytes) this.rotate();
    fs.writeSync(this.fd, chunk);
    this.size += bytes;
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  private rotate(): void {
    fs.closeSync(this.fd);
    const { dir, name, ext } = path.parse(this.options.file);
    const copy = (n: number): string => path.join(dir, `${name}.${n}${ext}`);
    fs.rmSync(copy(this.options.keep), { force: true });
    for (let n = this.options.keep - 1; n >= 1; n--) {
      if (fs.existsSync(copy(n))) fs.renameSync(copy(n), copy(n + 1));
    }
    if (this.options.keep > 0) fs.renameSync(this.options.file, copy(1));
    else fs.rmSync(this.options.file, { force: true });
    this.fd = openPrivate(this.options.file);
    this.size = 0;
  }
}

/** Opens for appending, mode 0600; a file an older version left readable by others is made private. */
function openPrivate(file: string): number {
  const fd = fs.openSync(file, 'a', 0o600);
  if (process.platform !== 'win32' && (fs.fstatSync(fd).mode & 0o077) !== 0) fs.fchmodSync(fd, 0o600);
  return fd;
}
