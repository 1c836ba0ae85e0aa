import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'bin/sutazai.mjs');

export interface SutazaiRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The caller's environment without its SUTAZAI_* variables, plus the data directory and a case's own. */
function cliEnv(dataDir: string, env: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SUTAZAI_')));
  return { ...clean, SUTAZAI_DATA_DIR: dataDir, ...env };
}

/** The CLI as a child process (`node bin/sutazai.mjs`), with only the SUTAZAI_* variables a case gives it. */
export function runSutazai(args: string[], dataDir: string, env: Record<string, string> = {}): SutazaiRun {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000, env: cliEnv(dataDir, env) });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * The same, without blocking this process (a case that serves the backend or holds a lock
 * itself while the CLI runs beside it); `stdin` is written whole, then closed.
 */
export function runSutazaiAsync(
  args: string[],
  dataDir: string,
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<SutazaiRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: root, env: cliEnv(dataDir, options.env ?? {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}
