// The lifelines a daemon watches adopted processes by (lifelines.ts): made under their
// directory only, whatever name a process found by its marker claims.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Lifelines } from '../../../agents-runtime/src/process/lifelines';

const MKFIFO = ['/usr/bin/mkfifo', '/bin/mkfifo'].find((p) => fs.existsSync(p));

describe.skipIf(MKFIFO === undefined)('Lifelines', () => {
  let root: string;
  let dir: string;
  const open: number[] = [];

  /** A FIFO at `file`, held open (as a running program holds its lifeline). */
  function heldFifo(file: string): void {
    expect(spawnSync(MKFIFO!, ['-m', '0600', file]).status).toBe(0);
    open.push(fs.openSync(file, fs.constants.O_RDWR));
  }

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-lifelines-'));
    dir = path.join(root, 'lifelines');
    fs.mkdirSync(dir);
  });
  afterEach(() => {
    for (const fd of open.splice(0)) fs.closeSync(fd);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('watches a held lifeline in its directory', () => {
    heldFifo(path.join(dir, 'inside.life'));
    const stop = new Lifelines({ dir, mkfifo: MKFIFO! }).watch('inside', () => undefined);
    expect(stop).not.toBeNull();
    stop!();
  });

  it('opens nothing outside its directory for a name that is a path', () => {
    heldFifo(path.join(root, 'outside.life'));
    const lifelines = new Lifelines({ dir, mkfifo: MKFIFO! });
    expect(lifelines.watch('../outside', () => undefined)).toBeNull();
    expect(lifelines.fdFor('../made')).toBeNull();
    expect(fs.existsSync(path.join(root, 'made.life'))).toBe(false);
  });

  it('follows no symbolic link in its directory', () => {
    heldFifo(path.join(root, 'target.life'));
    fs.symlinkSync(path.join(root, 'target.life'), path.join(dir, 'linked.life'));
    expect(new Lifelines({ dir, mkfifo: MKFIFO! }).watch('linked', () => undefined)).toBeNull();
  });
});
