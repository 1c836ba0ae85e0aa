/**
 * The few asynchronous file operations the daemon awaits, on fs's callback API.
 *
 * Why not `node:fs/promises`: loading it loads its FileHandle, stream glue and readline's
 * interface (for FileHandle.readLines), ~0.4 MB of the daemon's private memory that nothing
 * here uses (issue 13's footprint; `fs.promises` is the same module). The callback API is
 * part of `node:fs`, which is loaded anyway.
 */
import fs from 'node:fs';

type Done<T> = (error: NodeJS.ErrnoException | null, value: T) => void;

function settle<T>(start: (done: Done<T>) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => start((error, value) => (error === null ? resolve(value) : reject(error))));
}

export const readdir = (dir: string): Promise<string[]> => settle((done) => fs.readdir(dir, done));

export const readText = (file: string): Promise<string> => settle((done) => fs.readFile(file, 'utf8', done));

export const mkdirs = (dir: string, mode: number): Promise<void> =>
  settle((done) => fs.mkdir(dir, { recursive: true, mode }, (error) => done(error, undefined)));

export const open = (file: string, flags: string, mode = 0o666): Promise<number> => settle((done) => fs.open(file, flags, mode, done));

/** All of `text` at the descriptor's position (fs.writeFile given a descriptor writes until it is all written). */
export const writeAll = (fd: number, text: string): Promise<void> =>
  settle((done) => fs.writeFile(fd, text, (error) => done(error, undefined)));

export const fsync = (fd: number): Promise<void> => settle((done) => fs.fsync(fd, (error) => done(error, undefined)));

export const close = (fd: number): Promise<void> => settle((done) => fs.close(fd, (error) => done(error ?? null, undefined)));

export const removeFile = (file: string): Promise<void> =>
  settle((done) => fs.rm(file, { force: true }, (error) => done(error, undefined)));

export const rename = (from: string, to: string): Promise<void> => settle((done) => fs.rename(from, to, (error) => done(error, undefined)));
