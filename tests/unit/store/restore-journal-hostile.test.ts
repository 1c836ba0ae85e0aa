import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../../electron/contract';
import { ENTRY_ASIDE_NAME, JOURNAL_NAME, writeJournal } from '../../../electron/backend/store/restore-journal';
import { settleInterruptedRestore } from '../../../electron/backend/store/restore-swap';
import { makeTempDir } from '../../support/temp-dir';

/**
 * A restore journal and the folders it names are in the data directory, which anyone who can
 * write there can edit: a settle (run by every store open and restore) must never move the
 * store out of the directory, or other files into it, through a link planted at a folder's name.
 */

const STAGED = '.sutazai-restore-new-abcdef';
const DEAD_PID = 2 ** 22 + 1; // above Linux's pid_max: never a live process

let tmp: ReturnType<typeof makeTempDir>;
let dataDir: string;
let outside: string;
let outside2: string;

beforeEach(() => {
  tmp = makeTempDir('sutazai-restore-journal-');
  dataDir = path.join(tmp.path, 'data');
  outside = path.join(tmp.path, 'outside');
  outside2 = path.join(tmp.path, 'outside2');
  for (const dir of [dataDir, outside, outside2]) fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dataDir, 'sutazai.db'), 'live store');
  fs.mkdirSync(path.join(outside, 'bundles'));
  fs.writeFileSync(path.join(outside, 'bundles', 'planted.tar'), 'not ours');
});

afterEach(() => tmp.remove());

function plantJournal(journal: { old: string[]; new: string[]; committed: boolean }): void {
  fs.writeFileSync(
    path.join(dataDir, JOURNAL_NAME),
    JSON.stringify({
      format: 'sutazai-restore-journal',
      version: 1,
      owner: { pid: DEAD_PID, startedAt: null },
      staged: STAGED,
      ...journal,
    }),
  );
}

function settleError(): ApiError {
  try {
    settleInterruptedRestore(dataDir);
  } catch (error) {
    return error as ApiError;
  }
  throw new Error('the settle did not refuse');
}

describe('settling a hostile restore journal', () => {
  it('refuses links at the staging and aside folders, and moves nothing across the data directory', () => {
    fs.symlinkSync(outside2, path.join(dataDir, STAGED));
    fs.symlinkSync(outside, path.join(dataDir, ENTRY_ASIDE_NAME));
    plantJournal({ old: ['bundles'], new: ['sutazai.db'], committed: false });

    const error = settleError();
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe('RESTORE_INTERRUPTED');
    expect(error.message).toContain('symbolic link');
    expect(error.remedy).toContain('remove');

    expect(fs.readFileSync(path.join(dataDir, 'sutazai.db'), 'utf8')).toBe('live store');
    expect(fs.readdirSync(outside2)).toEqual([]);
    expect(fs.existsSync(path.join(dataDir, 'bundles'))).toBe(false);
    expect(fs.readdirSync(path.join(outside, 'bundles'))).toEqual(['planted.tar']);
    expect(fs.existsSync(path.join(dataDir, JOURNAL_NAME))).toBe(true);
  });

  it('refuses a link at the aside folder alone', () => {
    fs.mkdirSync(path.join(dataDir, STAGED));
    fs.symlinkSync(outside, path.join(dataDir, ENTRY_ASIDE_NAME));
    plantJournal({ old: ['bundles'], new: [], committed: false });

    expect(settleError().code).toBe('RESTORE_INTERRUPTED');
    expect(fs.existsSync(path.join(dataDir, 'bundles'))).toBe(false);
    expect(fs.readdirSync(path.join(outside, 'bundles'))).toEqual(['planted.tar']);
  });

  it('refuses a plain file at the staging folder', () => {
    fs.writeFileSync(path.join(dataDir, STAGED), 'not a folder');
    plantJournal({ old: [], new: ['sutazai.db'], committed: false });

    const error = settleError();
    expect(error.code).toBe('RESTORE_INTERRUPTED');
    expect(error.message).toContain('not a folder');
    expect(fs.readFileSync(path.join(dataDir, 'sutazai.db'), 'utf8')).toBe('live store');
  });

  it('still rolls back a real interrupted swap', () => {
    fs.mkdirSync(path.join(dataDir, STAGED));
    fs.mkdirSync(path.join(dataDir, ENTRY_ASIDE_NAME));
    fs.renameSync(path.join(dataDir, 'sutazai.db'), path.join(dataDir, ENTRY_ASIDE_NAME, 'sutazai.db'));
    fs.writeFileSync(path.join(dataDir, 'sutazai.db'), 'restored store');
    plantJournal({ old: ['sutazai.db'], new: ['sutazai.db'], committed: false });

    expect(settleInterruptedRestore(dataDir)).toBe('rolled-back');
    expect(fs.readFileSync(path.join(dataDir, 'sutazai.db'), 'utf8')).toBe('live store');
    expect(fs.readdirSync(dataDir)).toEqual(['sutazai.db']);
  });
});

describe('writing the journal', () => {
  it('does not follow a link planted at its temporary name', () => {
    const target = path.join(outside, 'victim');
    fs.writeFileSync(target, 'untouched');
    fs.symlinkSync(target, path.join(dataDir, `${JOURNAL_NAME}.tmp`));

    writeJournal(dataDir, { owner: { pid: DEAD_PID, startedAt: null }, staged: STAGED, old: [], new: [], committed: false });

    expect(fs.readFileSync(target, 'utf8')).toBe('untouched');
    const journal = path.join(dataDir, JOURNAL_NAME);
    expect(fs.lstatSync(journal).isFile()).toBe(true);
    expect(JSON.parse(fs.readFileSync(journal, 'utf8'))).toMatchObject({ staged: STAGED, committed: false });
  });
});
