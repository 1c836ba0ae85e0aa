import fs from 'node:fs';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { LogFiles } from '../../../agents-runtime/src/logs/log-files';
import { rotateByRename } from '../../../agents-runtime/src/logs/log-rotation';
import { LineSplitter, MAX_LINE_BYTES, StampedLogFile } from '../../../agents-runtime/src/logs/stamped-lines';
import { makeTempDir } from '../../support/temp-dir';

const tmp = makeTempDir('sutazai-stamped-lines-');
afterAll(() => tmp.remove());

const text = (lines: Buffer[]): string[] => lines.map((l) => l.toString('utf8'));

describe('LineSplitter (the log collector cuts what it reads into lines)', () => {
  it('hands out complete lines and keeps what follows the last newline for the next read', () => {
    const s = new LineSplitter();
    expect(text(s.take(Buffer.from('one\ntwo\nthr')))).toEqual(['one', 'two']);
    expect(s.hasPartial).toBe(true);
    expect(text(s.take(Buffer.from('ee\n\nfour')))).toEqual(['three', '']);
    expect(s.rest()?.toString()).toBe('four');
    expect(s.hasPartial).toBe(false);
    expect(s.rest()).toBeNull();
  });

  it('cuts lines at MAX_LINE_BYTES, also when no newline has come yet, and keeps a line of exactly that size whole', () => {
    const s = new LineSplitter();
    const long = 'a'.repeat(MAX_LINE_BYTES * 2 + 10);
    const lines = text(s.take(Buffer.from(long)));
    expect(lines.map((l) => l.length)).toEqual([MAX_LINE_BYTES, MAX_LINE_BYTES]);
    expect(s.rest()?.length).toBe(10);
    expect(text(s.take(Buffer.from(`${'b'.repeat(MAX_LINE_BYTES)}\nc\n`))).map((l) => l.length)).toEqual([MAX_LINE_BYTES, 1]);
  });

  it('does not split a line that arrives over many reads, byte by byte', () => {
    const s = new LineSplitter();
    const out: string[] = [];
    for (const byte of Buffer.from('héllo wörld\nnext\n')) out.push(...text(s.take(Buffer.from([byte]))));
    expect(out).toEqual(['héllo wörld', 'next']);
  });
});

describe('StampedLogFile (what the collector appends to an instance log)', () => {
  it('writes `<time> <tag> <text>` lines, appending to what the file holds', () => {
    const file = path.join(tmp.path, 'a.log');
    fs.writeFileSync(file, 'earlier\n');
    const log = new StampedLogFile(file);
    log.write('2026-01-01T00:00:00.000Z', 'out', [Buffer.from('hello'), Buffer.from('')]);
    log.write('2026-01-01T00:00:00.001Z', 'err', [Buffer.from('oops')]);
    log.write('2026-01-01T00:00:00.002Z', 'out', []);
    log.close();
    expect(fs.readFileSync(file, 'utf8')).toBe(
      'earlier\n2026-01-01T00:00:00.000Z out hello\n2026-01-01T00:00:00.000Z out \n2026-01-01T00:00:00.001Z err oops\n',
    );
  });

  it('a full disk (/dev/full) drops lines and counts them; the next write that succeeds says how many, on a line of its own', () => {
    const file = path.join(tmp.path, 'full.log');
    fs.symlinkSync('/dev/full', file);
    const log = new StampedLogFile(file);
    log.write('2026-01-01T00:00:00.000Z', 'out', [Buffer.from('lost 1'), Buffer.from('lost 2')]);
    log.write('2026-01-01T00:00:00.001Z', 'err', [Buffer.from('lost 3')]);
    expect(log.droppedLines).toBe(3);
    // Space is back: the same name is a writable file again, opened afresh on the next run.
    log.close();
    fs.rmSync(file);
    log.write('2026-01-01T00:00:00.002Z', 'out', [Buffer.from('kept')]);
    expect(log.droppedLines).toBe(0);
    log.close();
    expect(fs.readFileSync(file, 'utf8')).toBe(
      '\n2026-01-01T00:00:00.002Z sys [sutazai-runtime] 3 log lines dropped: could not write the log file (disk full?)\n' +
        '2026-01-01T00:00:00.002Z out kept\n',
    );
  });

  it('a file that cannot be opened counts as a failed write, and is tried again', () => {
    const dir = path.join(tmp.path, 'not-yet');
    const log = new StampedLogFile(path.join(dir, 'b.log'));
    log.write('2026-01-01T00:00:00.000Z', 'out', [Buffer.from('nowhere')]);
    expect(log.droppedLines).toBe(1);
    fs.mkdirSync(dir);
    log.write('2026-01-01T00:00:00.001Z', 'out', [Buffer.from('somewhere')]);
    log.close();
    expect(fs.readFileSync(path.join(dir, 'b.log'), 'utf8')).toContain('1 log lines dropped');
  });
});

describe('StampedLogFile with rotation at write time (the collector is the only writer of its logs)', () => {
  const numbered = (from: number, count: number): Buffer[] =>
    Array.from({ length: count }, (_, i) => Buffer.from(String(from + i).padStart(90, '0')));
  const numbersIn = (file: string): number[] =>
    fs.existsSync(file)
      ? fs
          .readFileSync(file, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => Number(l.split(' ')[2]))
      : [];

  it('a file that cannot be opened is not rotated by the size of the one open before: its lines are dropped and counted', () => {
    const file = path.join(tmp.path, 'gone.log');
    let rotations = 0;
    const log = new StampedLogFile(file, { maxFileBytes: () => 1000, rotate: () => (rotations += 1) });
    log.write('2026-01-01T00:00:00.000Z', 'out', numbered(0, 7)); // 7 lines of 120 bytes: 840
    log.close();
    // The next open fails (EISDIR): the 840 bytes counted are no file's any more.
    fs.rmSync(file);
    fs.mkdirSync(file);
    log.write('2026-01-01T00:00:01.000Z', 'out', numbered(7, 3));
    expect(rotations).toBe(0);
    expect(log.droppedLines).toBe(3);
    fs.rmdirSync(file);
    log.write('2026-01-01T00:00:02.000Z', 'out', numbered(10, 1));
    log.close();
    expect(numbersIn(file).filter((n) => !Number.isNaN(n))).toEqual([10]); // and the notice
    expect(fs.readFileSync(file, 'utf8')).toContain('3 log lines dropped');
  });

  it('rotates before a write would take the live file past its size: no file ever passes it, and the newest lines are all there, in order', () => {
    const dir = path.join(tmp.path, 'rotating');
    const files = new LogFiles(dir, { maxFileBytes: 4096, keepFiles: 3 });
    files.ensureWritable();
    fs.writeFileSync(files.logPath('flood'), 'x'.repeat(4000) + '\n'); // an earlier run's lines
    let rotations = 0;
    const log = new StampedLogFile(files.logPath('flood'), {
      maxFileBytes: () => files.limits.maxFileBytes,
      rotate: () => {
        rotateByRename(files, 'flood');
        rotations += 1;
      },
    });
    const all = [files.logPath('flood'), ...[1, 2, 3, 4].map((n) => files.rotatedPath('flood', n))];
    let next = 1;
    // Batches of every size: one line, a few, more than a whole file's worth at once.
    for (const size of [1, 3, 7, 60, 1, 120, 33, 2, 250]) {
      expect(log.write('2026-01-01T00:00:00.000Z', 'out', numbered(next, size))).toEqual({ lines: size, dropped: 0 });
      next += size;
      for (const file of all) if (fs.existsSync(file)) expect(fs.statSync(file).size).toBeLessThanOrEqual(4096);
    }
    log.close();
    expect(fs.existsSync(files.rotatedPath('flood', 4))).toBe(false); // keepFiles 3
    const kept = [3, 2, 1].flatMap((n) => numbersIn(files.rotatedPath('flood', n))).concat(numbersIn(files.logPath('flood')));
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => next - kept.length + i));
    // Each full file holds as many 121-byte lines as fit in 4096 bytes (33), so the 4 files hold the last 100 or more.
    expect(kept.length).toBeGreaterThanOrEqual(3 * 33 + 1);
    expect(rotations).toBeGreaterThanOrEqual(Math.floor((next - 1) / 33) - 1);
  });

  it('the stamping path leaves no object per line behind: 64 MiB of 100-byte lines cost next to no garbage collections', async () => {
    const file = path.join(tmp.path, 'gc.log');
    fs.symlinkSync('/dev/null', file);
    const log = new StampedLogFile(file);
    const splitter = new LineSplitter();
    // What one 64 KiB read of a flood holds: it ends halfway through a line, as most reads do.
    const chunk = Buffer.from(`${'y'.repeat(99)}\n`.repeat(655) + 'y'.repeat(50));
    let collections = 0;
    const observer = new PerformanceObserver((list) => (collections += list.getEntries().length));
    observer.observe({ entryTypes: ['gc'] });
    let lines = 0;
    for (let read = 0; read < 1024; read += 1) {
      lines += log.writeLines('2026-01-01T00:00:00.000Z', 'out', (sink) => splitter.each(chunk, sink)).lines;
    }
    await new Promise((resolve) => setTimeout(resolve, 50)); // the observer hears of the collections asynchronously
    observer.disconnect();
    log.close();
    expect(lines).toBe(1024 * 655);
    // An object per line (a Buffer view, the parts of a concatenation) is ~100 MB of garbage here: dozens of collections.
    expect(collections).toBeLessThanOrEqual(4);
  });
});
