import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOneTimeFiles, type OneTimeFiles } from '../../../electron/backend/server/one-time-files';

/**
 * The files a web-mode backend offers once (downloads, uploads): one session's offers never
 * push out another's, and a session sends one upload at a time (each may be a GiB on disk).
 */

let root = '';
let files: OneTimeFiles;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'one-time-files-'));
  files = createOneTimeFiles({ root: path.join(root, 'downloads'), now: () => 1_000 });
});

afterEach(() => {
  files.close();
  fs.rmSync(root, { recursive: true, force: true });
});

function offerFile(actor: string): { id: string; file: string } {
  const file = files.newFile('.tar');
  fs.writeFileSync(file, actor, { mode: 0o600 });
  return { id: files.offer(actor, file, 'x.tar'), file };
}

describe('one-time files', () => {
  it("keeps a session's offer while another session offers many: the other's own oldest go", () => {
    const victim = offerFile('web:session-1');
    const flood = Array.from({ length: 20 }, () => offerFile('web:session-2'));
    // The flooding session keeps only its newest few; the files of the ones dropped are gone.
    const kept = flood.filter(({ file }) => fs.existsSync(file));
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThanOrEqual(4);
    expect(kept).toEqual(flood.slice(flood.length - kept.length));
    expect(files.take(victim.id, 'web:session-1')).toEqual({ file: victim.file, fileName: 'x.tar' });
  });

  it('receives one upload per session at a time, and a few in all', () => {
    const first = files.receive('web:session-1');
    expect(first).not.toBeNull();
    expect(files.receive('web:session-1')).toBeNull();
    const others = ['web:session-2', 'web:session-3', 'web:session-4'].map((actor) => files.receive(actor));
    expect(others.every((release) => release !== null)).toBe(true);
    expect(files.receive('web:session-5')).toBeNull();
    first!();
    first!(); // released twice counts once
    expect(files.receive('web:session-5')).not.toBeNull();
    expect(files.receive('web:session-1')).toBeNull();
  });
});
