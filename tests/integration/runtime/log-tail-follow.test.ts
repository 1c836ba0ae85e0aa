import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { LogFiles } from '../../../agents-runtime/src/logs/log-files';
import { follow, tail, tailForFollow, type LogLine } from '../../../agents-runtime/src/logs/log-tail';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

// TailLogs with follow: the last lines, then every line after them. The follow must go on
// where the tail ended, not where the file ends when the follow starts: a busy machine put a
// line between the two (CI under load saw one missing from a followed tail).

const tmp = makeTempDir('sutazai-log-tail-follow-');
afterAll(() => tmp.remove());
const waitFor = makeWaitFor({ timeoutMs: 20_000, pollMs: 20 });
const stamped = (text: string) => `2026-01-01T00:00:00.000Z out ${text}`;

describe('a tail followed', () => {
  it('goes on after the tail, losing and repeating nothing written between the two, and sends a half-written line whole', async () => {
    const files = new LogFiles(tmp.path, { maxFileBytes: 1024 * 1024, keepFiles: 2 });
    files.ensureWritable();
    const file = files.logPath('talker');
    fs.writeFileSync(file, `${[1, 2, 3, 4].map((i) => stamped(`line ${i}`)).join('\n')}\n${stamped('line')}`); // line 5 half written

    const last = tailForFollow(files, 'talker', 3);
    expect(last.lines.map((l) => l.text)).toEqual(['line 2', 'line 3', 'line 4']);
    expect(last.liveEnd).toBe(fs.readFileSync(file, 'utf8').lastIndexOf('\n') + 1);
    // Without the follow, a tail still shows the half line: it may be all a crash left.
    expect(tail(files, 'talker', 1).map((l) => l.text)).toEqual(['line']);

    // Written after the tail and before the follow starts.
    fs.appendFileSync(file, ` 5\n${stamped('line 6')}\n`);
    const seen: LogLine[] = [];
    const stop = follow(files, 'talker', (lines) => seen.push(...lines), { pollMs: 10_000, from: last.liveEnd });
    try {
      await waitFor('the lines written before the follow started', () => seen.length >= 2);
      fs.appendFileSync(file, `${stamped('line 7')}\n`);
      await waitFor('the line written after', () => seen.length >= 3);
      expect(seen.map((l) => l.text)).toEqual(['line 5', 'line 6', 'line 7']);
    } finally {
      stop();
    }
  });

  it('asked for no lines, still starts after the last complete line', () => {
    const files = new LogFiles(`${tmp.path}/empty-ask`, { maxFileBytes: 1024 * 1024, keepFiles: 2 });
    files.ensureWritable();
    fs.writeFileSync(files.logPath('p'), `${stamped('a')}\n${stamped('b')}`);
    expect(tailForFollow(files, 'p', 0)).toEqual({ lines: [], liveEnd: stamped('a').length + 1 });
    expect(tailForFollow(files, 'missing', 5)).toEqual({ lines: [], liveEnd: 0 });
  });
});
