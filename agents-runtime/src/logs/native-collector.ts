/**
 * Which log collector program the daemon starts. The runtime bundle carries a native one
 * (agents-runtime/native/log-collector.c, built by build-runtime.mjs as
 * `sutazai-log-collector-<arch>` beside sutazai-runtime.cjs): it speaks the Node collector's
 * protocol and writes the same files, for well under 1 MB of memory instead of a second Node
 * heap. Where it is missing or cannot run here (a bundle built without a C compiler, another
 * architecture, a file that is not an executable of this machine), the Node collector runs
 * instead and the reason is said once in the daemon's log. The check here reads the file only:
 * one that passes it but is refused at exec or dies at its start is replaced by the Node one at
 * run time (log-collector-client.ts, CollectorCommand.fallback).
 */
import fs from 'node:fs';
import path from 'node:path';

/** The file name the build gives the native collector for a Node `process.arch`. */
export function nativeCollectorFileName(arch: string = process.arch): string {
  return `sutazai-log-collector-${arch}`;
}

/** ELF e_machine of each architecture the build makes a collector for. */
const ELF_MACHINE: Record<string, number> = { x64: 62, arm64: 183 };

/** Why `file` cannot be this machine's log collector, or null when it can. */
export function nativeCollectorProblem(file: string, arch: string = process.arch): string | null {
  const machine = ELF_MACHINE[arch];
  if (machine === undefined) return `no native log collector is built for ${arch}`;
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    return `${file} cannot be opened (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
  try {
    const head = Buffer.alloc(20);
    const read = fs.readSync(fd, head, 0, head.length, 0);
    // 64-bit little-endian ELF (both built architectures are), e_machine at offset 18.
    if (read < 20 || head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2 || head[5] !== 1) return `${file} is not a 64-bit ELF executable`;
    if (head.readUInt16LE(18) !== machine) return `${file} is built for another architecture (ELF machine ${head.readUInt16LE(18)})`;
    fs.accessSync(file, fs.constants.X_OK);
    return null;
  } catch (error) {
    return `${file} is not executable (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  } finally {
    fs.closeSync(fd);
  }
}

/** The native collector beside the bundle, or why the Node one runs. */
export function findNativeCollector(bundleDir: string, arch: string = process.arch): { file: string } | { problem: string } {
  const file = path.join(bundleDir, nativeCollectorFileName(arch));
  const problem = nativeCollectorProblem(file, arch);
  return problem === null ? { file } : { problem };
}
