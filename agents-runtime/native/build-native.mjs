// Builds the native log collector (log-collector.c beside this file): one static executable
// per architecture a host may have, named by Node's process.arch (sutazai-log-collector-x64,
// -arm64). The daemon runs the one for its own architecture and falls back to the Node
// collector, logging why, where it is missing (agents-runtime/src/logs/native-collector.ts).
// This machine's architecture is built with `musl-gcc` (Debian's musl-tools) where it is
// installed, else with `cc` and the static glibc; the other with the Debian cross compiler
// (gcc-aarch64-linux-gnu / gcc-x86-64-linux-gnu) when installed. A missing compiler, or one
// that fails (no static libc.a, an older C library, a new warning), is said, not fatal: the
// runtime then runs the Node collector. Warnings fail the build only when strict (CI, or
// SUTAZAI_NATIVE_STRICT=1, which the tests set): a newer cc must not stop a user's build.
// Static: the hosts' C libraries differ from the build machine's.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const source = path.join(path.dirname(fileURLToPath(import.meta.url)), 'log-collector.c');
const CROSS_COMPILERS = { x64: 'x86_64-linux-gnu-gcc', arm64: 'aarch64-linux-gnu-gcc' };
const FLAGS = ['-std=c11', '-O2', '-Wall', '-Wextra', '-Wno-format-truncation', '-static', '-s'];

/**
 * This machine's compiler for the collector: musl-gcc where it runs, else cc (static glibc).
 * Why musl: a static glibc executable keeps ~650 KB of glibc's own code resident even for a
 * program that only calls write(): its start-up and stdio touch pages all over its text, and
 * the kernel maps the pages around each one it faults in. Those pages are the collector's
 * alone, so they count whole in the runtime's footprint (issue 13, bench:runtime): the
 * collector was 0.94 MB PSS built with glibc and 0.17 MB with musl (its file 846 -> 92 KB).
 */
export function hostCompiler() {
  return spawnSync('musl-gcc', ['-dumpversion'], { stdio: 'ignore' }).status === 0 ? 'musl-gcc' : 'cc';
}

/** Whether warnings fail the build: in CI and the tests, never in a user's build. */
export function strictByDefault(env = process.env) {
  return (env.CI !== undefined && env.CI !== '' && env.CI !== 'false') || env.SUTAZAI_NATIVE_STRICT === '1';
}

/**
 * Builds `file` for `arch`; returns null, or why it was not built (no compiler, or the
 * compiler or linker failed: its own words). `options.source` and `options.compiler` replace
 * log-collector.c and the chosen compiler (for the tests).
 */
export function buildNativeCollector(file, arch = process.arch, options = {}) {
  const compiler = options.compiler ?? (arch === process.arch && process.platform === 'linux' ? hostCompiler() : CROSS_COMPILERS[arch]);
  if (compiler === undefined) return `no compiler is known for ${arch}`;
  const strict = options.strict ?? strictByDefault();
  fs.rmSync(file, { force: true });
  const made = spawnSync(compiler, [...FLAGS, ...(strict ? ['-Werror'] : []), '-o', file, options.source ?? source], { encoding: 'utf8' });
  if (made.error?.code === 'ENOENT') return `no ${compiler}`;
  if (made.error !== undefined) return `${compiler} could not run (${made.error.code ?? made.error.message})`;
  if (made.status !== 0) {
    fs.rmSync(file, { force: true });
    const words = made.stderr.trim().split('\n').slice(-20).join('\n');
    return `${compiler} failed (${made.status ?? made.signal}): ${words}`;
  }
  return null;
}

/** Every architecture's collector into `dir`; returns the file names built. */
export function buildNativeCollectors(dir) {
  const built = [];
  for (const arch of Object.keys(CROSS_COMPILERS)) {
    const name = `sutazai-log-collector-${arch}`;
    const problem = buildNativeCollector(path.join(dir, name), arch);
    if (problem !== null) {
      console.log(`native log collector for ${arch} not built: ${problem} (hosts of that architecture run the Node collector)`);
      continue;
    }
    built.push(name);
    if (arch === process.arch && hostCompiler() === 'cc') {
      console.log(
        `native log collector for ${arch} built with cc and the static glibc: it holds 0.7 MB more than one built with musl-gcc (install Debian's musl-tools)`,
      );
    }
  }
  return built;
}

// `node agents-runtime/native/build-native.mjs FILE`: this machine's collector into FILE (the tests build it so).
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (file === undefined) {
    console.error('usage: node agents-runtime/native/build-native.mjs FILE');
    process.exit(2);
  }
  const problem = buildNativeCollector(path.resolve(file));
  if (problem !== null) {
    console.error(`native log collector not built: ${problem}`);
    process.exit(1);
  }
}
