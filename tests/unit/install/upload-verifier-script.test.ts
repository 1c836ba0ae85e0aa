import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifierScript } from '../../../electron/backend/install/steps/upload-bundle';
import { makeTempDir } from '../../support/temp-dir';

// The upload's verifier as the host runs it: the shells a host may have, with and
// without OpenSSL on the PATH (sha256sum is the fallback).
const BLOCK = 64 * 1024;
const SHELLS: Array<{ name: string; argv: string[] }> = [
  { name: 'dash', argv: ['/bin/sh'] },
  { name: 'busybox sh', argv: ['/usr/bin/busybox', 'sh'] },
  { name: 'bash', argv: ['/bin/bash'] },
].filter((shell) => fs.existsSync(shell.argv[0]!));

let tmp: ReturnType<typeof makeTempDir>;
let partial: string;
let staged: string;
let content: Buffer;

beforeEach(() => {
  tmp = makeTempDir('sutazai-verifier-');
  partial = path.join(tmp.path, "bundle's.partial");
  staged = path.join(tmp.path, "bundle's.sutazai-bundle");
  // Not a whole number of blocks: the last block is short.
  content = randomBytes(5 * BLOCK + 1234);
  // A bin dir without openssl, for the sha256sum path.
  fs.mkdirSync(path.join(tmp.path, 'bin'));
  for (const tool of ['sh', 'dd', 'sha256sum', 'cut', 'sed', 'stat', 'wc', 'mv', 'rm', 'printf', 'cat']) {
    const found = ['/usr/bin', '/bin'].map((dir) => path.join(dir, tool)).find((file) => fs.existsSync(file));
    if (found) fs.symlinkSync(found, path.join(tmp.path, 'bin', tool));
  }
});
afterEach(() => tmp.remove());

function run(shell: string[], input: string, withoutOpenssl = false): string {
  const result = spawnSync(shell[0]!, [...shell.slice(1), '-c', verifierScript(partial, staged)], {
    input,
    encoding: 'utf8',
    timeout: 20_000,
    env: withoutOpenssl ? { PATH: path.join(tmp.path, 'bin') } : process.env,
  });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

// Each case runs the script in real shells (several child processes, up to 20 s apiece
// by spawnSync's limit): the unit project's 10 s default is for in-process work.
const SHELL_CASE_MS = 90_000;

describe.each(SHELLS)('the upload verifier under $name', ({ argv }) => {
  it.each([false, true])(
    'hashes the blocks it is handed, in steps, then commits (sha256sum only: %s)',
    (withoutOpenssl) => {
      fs.writeFileSync(partial, content);
      const out = run(argv, `0 2\n2 4\nend\ncommit ${sha256(content)}\n`, withoutOpenssl);
      // The partial file is reported by its whole blocks: the short last one is written again on a resume.
      const whole = content.subarray(0, 5 * BLOCK);
      expect(out).toBe(`partial ${whole.length} ${sha256(whole)}\nsha256 ${sha256(content)}\nsettled\n`);
      expect(fs.existsSync(partial)).toBe(false);
      expect(fs.readFileSync(staged)).toEqual(content);
      expect(fs.readFileSync(`${staged}.sha256`, 'utf8')).toBe(`${sha256(content)}\n`);
    },
    SHELL_CASE_MS,
  );

  it(
    'reports no partial file, and hashes only what it was handed',
    () => {
      const out = run(argv, 'end\n');
      expect(out).toBe(`partial none\nsha256 ${sha256(Buffer.alloc(0))}\n`);
      fs.writeFileSync(partial, content);
      expect(run(argv, '1 1\nend\n')).toContain(`sha256 ${sha256(content.subarray(BLOCK, 2 * BLOCK))}\n`);
    },
    SHELL_CASE_MS,
  );

  it(
    'reports the blocks of its one look at the size while the file grows, and none for less than a block',
    () => {
      // A stat that lets an earlier connection's late writes land right after it answered:
      // the hash must cover exactly the blocks the size named, not what the file holds by then.
      fs.writeFileSync(partial, content.subarray(0, 3 * BLOCK + 100));
      const realStat = fs.readlinkSync(path.join(tmp.path, 'bin', 'stat'));
      fs.rmSync(path.join(tmp.path, 'bin', 'stat'));
      const late = path.join(tmp.path, 'late-writes');
      fs.writeFileSync(late, content.subarray(3 * BLOCK + 100));
      fs.writeFileSync(path.join(tmp.path, 'bin', 'stat'), `#!/bin/sh\n"${realStat}" "$@" && cat "${late}" >>"${partial}"\n`, {
        mode: 0o755,
      });
      const out = run(argv, 'end\n', true);
      const seen = content.subarray(0, 3 * BLOCK);
      expect(out).toBe(`partial ${seen.length} ${sha256(seen)}\nsha256 ${sha256(Buffer.alloc(0))}\n`);
      expect(fs.readFileSync(partial)).toEqual(content);

      fs.writeFileSync(partial, content.subarray(0, BLOCK - 1));
      expect(run(argv, 'end\n')).toBe(`partial none\nsha256 ${sha256(Buffer.alloc(0))}\n`);
    },
    SHELL_CASE_MS,
  );

  it(
    'removes the file on discard, and keeps it when its input ends without a verdict',
    () => {
      fs.writeFileSync(partial, content);
      expect(run(argv, '0 6\nend\n')).toMatch(/^partial \d+ [0-9a-f]{64}\nsha256 [0-9a-f]{64}\n$/);
      expect(fs.readFileSync(partial)).toEqual(content);
      expect(fs.existsSync(staged)).toBe(false);
      expect(run(argv, '0 6\nend\ndiscard\n')).toMatch(/settled\n$/);
      expect(fs.existsSync(partial)).toBe(false);
      expect(fs.existsSync(staged)).toBe(false);
    },
    SHELL_CASE_MS,
  );
});
