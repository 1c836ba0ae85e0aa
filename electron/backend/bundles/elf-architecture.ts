import fs from 'node:fs';
import type { Architecture } from './bundle-manifest';

/**
 * Which bundle architecture a Linux executable is built for, read from its ELF header
 * (e_machine). Catches the easy mistake of passing the x64 Node binary as the arm64 one,
 * which would otherwise surface only when a host fails to start it.
 */
export function elfArchitecture(file: string): { ok: true; arch: Architecture } | { ok: false; reason: string } {
  const header = Buffer.alloc(20);
  let read: number;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      read = fs.readSync(fd, header, 0, header.length, 0);
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    return { ok: false, reason: `it cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})` };
  }
  if (read < header.length || header.readUInt32BE(0) !== 0x7f454c46)
    return { ok: false, reason: 'it is not a Linux executable (no ELF header)' };
  if (header[4] !== 2 || header[5] !== 1) return { ok: false, reason: 'it is not a 64-bit little-endian executable' };
  const machine = header.readUInt16LE(18);
  if (machine === 0x3e) return { ok: true, arch: 'linux-x64' };
  if (machine === 0xb7) return { ok: true, arch: 'linux-arm64' };
  return { ok: false, reason: `it is built for ELF machine type 0x${machine.toString(16)}, neither x86-64 nor AArch64` };
}
