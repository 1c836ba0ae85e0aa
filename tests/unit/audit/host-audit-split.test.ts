// The control center's read of a host's audit segments: the script prints a marker line (a
// random word only this read knows) and the file's name before each segment. A name read twice
// means a file was named to pass for another (a line break in its name): tampering, not a segment.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hostAuditReadScript, ROTATED, splitSegments } from '../../../electron/backend/audit/host-audit-logs';

const MARK = '#sutazai-audit-segment-0123';

describe('splitSegments', () => {
  it('gives each segment its text, oldest first, and leaves out names the runtime would not give', () => {
    const text = [`${MARK} audit.log.14`, 'b', `${MARK} audit.log`, 'c', `${MARK} audit.log.1`, 'a', `${MARK} audit.log.x`, 'z', ''].join(
      '\n',
    );
    expect(splitSegments(text, MARK)).toEqual({
      segments: [
        { name: 'audit.log.1', text: 'a\n' },
        { name: 'audit.log.14', text: 'b\n' },
        { name: 'audit.log', text: 'c\n' },
      ],
      duplicate: null,
    });
  });

  it('names a segment read twice instead of letting the second replace the first', () => {
    const text = [`${MARK} audit.log.5`, 'real', `${MARK} audit.log.5`, 'forged', `${MARK} audit.log`, 'c', ''].join('\n');
    const { segments, duplicate } = splitSegments(text, MARK);
    expect(duplicate).toBe('audit.log.5');
    expect(segments.find((segment) => segment.name === 'audit.log.5')!.text).toBe('real\n');
  });
});

describe('the read script (real sh in a temporary directory)', () => {
  let dir = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-host-audit-read-'));
    fs.mkdirSync(path.join(dir, 'state'));
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.writeFileSync(path.join(dir, 'state', 'audit.log.1'), 'one\n');
    fs.writeFileSync(path.join(dir, 'state', 'audit.log'), 'two\n');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const run = (env: NodeJS.ProcessEnv = process.env) =>
    spawnSync('sh', ['-c', hostAuditReadScript(path.join(dir, 'state'), MARK).text], { encoding: 'utf8', env });

  it('reads only files named as the runtime names segments: not a name with a line break, not a symlink', () => {
    fs.writeFileSync(path.join(dir, 'state', `audit.log.1\n${MARK} audit.log.1`), 'forged\n');
    fs.writeFileSync(path.join(dir, 'state', 'audit.log.1x'), 'other\n');
    fs.symlinkSync(path.join(dir, 'state', 'audit.log.1'), path.join(dir, 'state', 'audit.log.7'));
    const result = run();
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`8\n${MARK} audit.log.1\none\n${MARK} audit.log\ntwo\n`);
  });

  it('fails with ROTATED when the live segment is sealed during the read (the names listed again differ)', () => {
    // A `head` that seals the live segment the first time it runs, as the runtime would mid-read.
    const shim = path.join(dir, 'bin', 'head');
    fs.writeFileSync(
      shim,
      `#!/bin/sh\n[ -e ${dir}/sealed ] || { : > ${dir}/sealed; mv audit.log audit.log.2; printf 'three\\n' > audit.log; }\nexec /usr/bin/head "$@"\n`,
      { mode: 0o755 },
    );
    expect(run({ ...process.env, PATH: `${path.join(dir, 'bin')}:${process.env.PATH ?? ''}` }).status).toBe(ROTATED);
    // Read again, nothing moves: the names agree.
    expect(run().status).toBe(0);
  });
});
