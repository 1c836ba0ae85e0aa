import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
