// The native log collector (agents-runtime/native/log-collector.c) built for the tests that run
// against both collectors: by the same script and flags as the runtime bundle's.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { nativeCollectorFileName } from '../../agents-runtime/src/logs/native-collector';

const root = path.resolve(import.meta.dirname, '../..');

/** Builds this machine's native collector into `dir`; returns its path. Throws with the compiler's words when it cannot. */
export function buildNativeCollectorInto(dir: string): string {
  const file = path.join(dir, nativeCollectorFileName());
  const made = spawnSync(process.execPath, [path.join(root, 'agents-runtime/native/build-native.mjs'), file], {
    encoding: 'utf8',
    // Warnings fail the tests' build (the bundle's build only says them): the collector stays warning-free.
    env: { ...process.env, SUTAZAI_NATIVE_STRICT: '1' },
  });
  if (made.status !== 0) throw new Error(`could not build the native log collector: ${made.stderr || made.error?.message}`);
  return file;
}
