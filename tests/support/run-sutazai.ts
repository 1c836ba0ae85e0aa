import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');

/** The CLI as a child process (`node bin/sutazai.mjs`), with only the SUTAZAI_* variables a case gives it. */
export function runSutazai(args: string[], dataDir: string, env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SUTAZAI_')));
  const result = spawnSync(process.execPath, [path.join(root, 'bin/sutazai.mjs'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...clean, SUTAZAI_DATA_DIR: dataDir, ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
