/**
 * Which log collector the bundled daemon runs (agents-runtime/src/logs/native-collector.ts):
 * the native one only when the file beside the bundle is an executable of this machine;
 * anything else is said, and the Node collector runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findNativeCollector, nativeCollectorFileName, nativeCollectorProblem } from '../../../agents-runtime/src/logs/native-collector';
import { makeTempDir } from '../../support/temp-dir';

const tmp = makeTempDir('sutazai-native-choice-');
afterAll(() => tmp.remove());

/** The first 20 bytes of a 64-bit little-endian ELF file for `machine` (62 x86-64, 183 AArch64). */
function elf(machine: number): Buffer {
  const head = Buffer.alloc(64);
  head.writeUInt32BE(0x7f454c46, 0);
  head[4] = 2;
  head[5] = 1;
  head.writeUInt16LE(machine, 18);
  return head;
}

function file(name: string, bytes: Buffer, mode: number): string {
  const at = path.join(tmp.path, name);
  fs.writeFileSync(at, bytes, { mode });
  fs.chmodSync(at, mode);
  return at;
}

describe('the native log collector beside the bundle', () => {
  it('is taken when it is an executable ELF file of this architecture', () => {
    const dir = path.join(tmp.path, 'good');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, nativeCollectorFileName('arm64')), elf(183), { mode: 0o755 });
    expect(findNativeCollector(dir, 'arm64')).toEqual({ file: path.join(dir, 'sutazai-log-collector-arm64') });
    expect(nativeCollectorProblem(file('x64', elf(62), 0o755), 'x64')).toBeNull();
  });

  it('is refused, with the reason, when missing, of another architecture, not ELF, not executable, or for an architecture with none built', () => {
    expect(findNativeCollector(path.join(tmp.path, 'none'), 'x64')).toEqual({
      problem: expect.stringContaining('cannot be opened (ENOENT)'),
    });
    expect(nativeCollectorProblem(file('arm-for-x64', elf(183), 0o755), 'x64')).toMatch(/another architecture \(ELF machine 183\)/);
    expect(nativeCollectorProblem(file('script', Buffer.from('#!/bin/sh\necho hi\n'.padEnd(64)), 0o755), 'x64')).toMatch(
      /not a 64-bit ELF/,
    );
    expect(nativeCollectorProblem(file('short', Buffer.from('\x7fELF'), 0o755), 'x64')).toMatch(/not a 64-bit ELF/);
    expect(nativeCollectorProblem(file('plain', elf(62), 0o644), 'x64')).toMatch(/not executable/);
    expect(nativeCollectorProblem(file('s390', elf(22), 0o755), 's390x')).toMatch(/no native log collector is built for s390x/);
  });
});
