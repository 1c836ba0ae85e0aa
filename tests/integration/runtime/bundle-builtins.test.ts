/**
 * The shipped daemon (sutazai-runtime.cjs as build-runtime.mjs builds it) binds each Node
 * built-in by the names its code imports and reads no other export at start: a getter read for
 * nothing builds what it returns (crypto.webcrypto loads Web Crypto, net.BlockList its module,
 * fs.ReadStream the stream classes) and keeps it for the daemon's life (issue 13, footprint).
 * The bundle runs with a trap on every configurable getter of the built-ins it uses
 * (tests/support/builtin-getter-trap.cjs); `--version` evaluates the whole bundle, then exits.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRuntimeBundle, REPO_ROOT } from '../../support/runtime-daemon-harness';
import { makeTempDir } from '../../support/temp-dir';

const tmp = makeTempDir('sutazai-bundle-builtins-');
const bundle = path.join(tmp.path, 'sutazai-runtime.cjs');
const trap = path.join(REPO_ROOT, 'tests/support/builtin-getter-trap.cjs');

beforeAll(() => buildRuntimeBundle(tmp.path, 120_000), 180_000);
afterAll(() => tmp.remove());

describe("the runtime bundle's Node built-ins", () => {
  it('reads no getter of a built-in at start and loads none of the modules such a read would', () => {
    const run = spawnSync(process.execPath, ['--require', trap, bundle, '--version'], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^sutazai-runtime \d/);
    const line = /^BUILTIN-READS (.*)$/m.exec(run.stderr);
    expect(line, run.stderr).not.toBeNull();
    expect(JSON.parse(line![1]!)).toEqual({ reads: [], loaded: [] });
  });

  it('the trap sees a read: a program that destructures node:net reads its getters', () => {
    const run = spawnSync(process.execPath, ['--require', trap, '-e', 'const { BlockList } = require("node:net"); void BlockList;'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const seen = JSON.parse(/^BUILTIN-READS (.*)$/m.exec(run.stderr)![1]!) as { reads: string[]; loaded: string[] };
    expect(seen.reads).toEqual(['net.BlockList']);
    expect(seen.loaded).toContain('internal/blocklist');
  });
});
