/**
 * The bundle's build of the native log collector (agents-runtime/native/build-native.mjs) never
 * stops the runtime's build: a compiler or linker that fails (no static libc.a, an older C
 * library, a warning a newer cc adds) is said as "not built" with its words, and the daemon
 * runs the Node collector. Warnings fail it only when strict (CI and the tests).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import * as buildNative from '../../../agents-runtime/native/build-native.mjs';
import { makeTempDir } from '../../support/temp-dir';

type Build = (file: string, arch?: string, options?: { source?: string; compiler?: string; strict?: boolean }) => string | null;
const buildNativeCollector = buildNative.buildNativeCollector as Build;
const strictByDefault = buildNative.strictByDefault as (env: Record<string, string | undefined>) => boolean;
const hostCompiler = buildNative.hostCompiler as () => string;

const tmp = makeTempDir('sutazai-native-build-');
afterAll(() => tmp.remove());

function source(name: string, text: string): string {
  const file = path.join(tmp.path, name);
  fs.writeFileSync(file, text);
  return file;
}

describe('building the native log collector', () => {
  it('a source the compiler refuses: not built, with the reason, nothing thrown and no file left', () => {
    const out = path.join(tmp.path, 'broken');
    const problem = buildNativeCollector(out, process.arch, { source: source('broken.c', 'int main(void) { return }\n') });
    expect(problem).toMatch(new RegExp(`^${hostCompiler()} failed \\(1\\): .*error`, 's'));
    expect(fs.existsSync(out)).toBe(false);
  });

  it('a warning fails only a strict build', () => {
    // An unused variable: -Wall warns.
    const warns = source('warns.c', 'int main(void) { int unused; return 0; }\n');
    expect(buildNativeCollector(path.join(tmp.path, 'lax'), process.arch, { source: warns, strict: false })).toBeNull();
    expect(buildNativeCollector(path.join(tmp.path, 'strict'), process.arch, { source: warns, strict: true })).toMatch(/unused/);
  });

  it('a compiler that is not there: not built, saying so', () => {
    expect(buildNativeCollector(path.join(tmp.path, 'none'), process.arch, { compiler: 'no-such-cc-sutazai' })).toBe(
      'no no-such-cc-sutazai',
    );
  });

  it("builds this machine's collector with musl where musl-gcc is installed (npm test installs it): a small static executable", () => {
    const out = path.join(tmp.path, 'collector');
    expect(buildNativeCollector(out, process.arch, { strict: true })).toBeNull();
    if (hostCompiler() === 'musl-gcc') {
      // The glibc one was 846 KB, and 650 KB of it stayed resident (the file's comment says why).
      expect(fs.statSync(out).size).toBeLessThan(300 * 1024);
    }
    expect(fs.readFileSync(out).subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  });

  it('strict in CI and when asked, not otherwise', () => {
    expect(strictByDefault({})).toBe(false);
    expect(strictByDefault({ CI: 'true' })).toBe(true);
    expect(strictByDefault({ CI: 'false' })).toBe(false);
    expect(strictByDefault({ SUTAZAI_NATIVE_STRICT: '1' })).toBe(true);
  });
});
