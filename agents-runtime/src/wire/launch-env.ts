/**
 * Environment every launcher of the daemon sets (the systemd unit, the installer's detached
 * start script, bench:runtime), because it only works from the process's start.
 *
 * MALLOC_ARENA_MAX=2: glibc gives each thread that mallocs its own arena (V8's platform
 * workers, libuv's pool, OpenSSL), and each keeps freed memory of its own. Two arenas are
 * plenty for a daemon that does its work on one thread and holds ~1.5 MB less resident
 * (bench:runtime, 10 children: 61.7 -> 59.6 MB). Ignored by other C libraries (musl).
 *
 * GLIBC_TUNABLES=glibc.malloc.mmap_threshold=65536: glibc serves a block of 128 KiB or more
 * with its own mapping, returned to the system on free, but raises that threshold (up to
 * 32 MiB) after such a block is freed, so later large blocks (start-up: parsing, compiling,
 * loading TLS and the API definitions) land in the main heap, where the holes they leave
 * stay resident. A fixed 64 KiB threshold keeps them out of it: the daemon's malloc heap
 * 6.3 -> 3.5 MB, its PSS 21.9 -> 18.7 MB (10 children, smaps after start-up). The daemon
 * makes few such blocks once running, so the mappings cost it no measurable time.
 *
 * Both are for the daemon alone: it removes them from the environment its programs inherit
 * (dropDaemonOnlyEnv), so the core and agents keep glibc's defaults.
 */
export const RUNTIME_LAUNCH_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=65536',
};

/**
 * Node's command-line flags every launcher puts before the daemon's bundle (the systemd unit,
 * the installer's detached start script, bench:runtime). Like the environment above they work
 * only from the process's start, and they are the daemon's alone: Node passes no flag of its
 * own command line to the programs it spawns.
 *
 * --lite-mode: V8 interprets instead of compiling (no baseline or optimizing compiler: it implies
 * --jitless) and sizes its structures for memory. The daemon's JavaScript runs for a few
 * milliseconds a second; what it saves is the compiled code, its feedback and the pages of the
 * compilers themselves: bench:runtime, the same bundle side by side, footprint PSS with 10
 * children 17.7 -> 16.7 MB and with 100 children 21.3 -> 18.3 MB, VmRSS 54.7 -> 49.3 MB, idle
 * CPU with 100 children 0.35 -> 0.33 % (no worse) (README, issue 13's footprint).
 * --no-expose-wasm: lite mode turns WebAssembly off, and says so on stderr at every start
 * unless it is not exposed in the first place; nothing in the daemon uses it.
 */
export const RUNTIME_NODE_FLAGS: readonly string[] = ['--lite-mode', '--no-expose-wasm'];

/**
 * Removes the launch settings from `env` (the daemon's own, once glibc has read them) where
 * they hold the value a launcher set, so the processes the daemon starts do not inherit
 * them; a value an operator set differently is theirs and stays.
 */
export function dropDaemonOnlyEnv(env: NodeJS.ProcessEnv): void {
  for (const [key, value] of Object.entries(RUNTIME_LAUNCH_ENV)) if (env[key] === value) delete env[key];
}
