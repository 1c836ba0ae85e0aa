/**
 * Environment every launcher of the daemon sets (the systemd unit, the installer's detached
 * start script, bench:runtime), because it only works from the process's start.
 *
 * MALLOC_ARENA_MAX=2: glibc gives each thread that mallocs its own arena (V8's platform
 * workers, libuv's pool, OpenSSL), and each keeps freed memory of its own. Two arenas are
 * plenty for a daemon that does its work on one thread and holds ~1.5 MB less resident
 * (bench:runtime, 10 children: 61.7 -> 59.6 MB). Ignored by other C libraries (musl).
 */
export const RUNTIME_LAUNCH_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };
