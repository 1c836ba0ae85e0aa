import { execFile } from 'node:child_process';

export interface ToolResult {
  /** Exit status; null when the tool was killed (the time limit ran out). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a tool with no stdin, the C locale and a time limit. null when it is not
 * installed: a missing optional tool is an answer, not an error.
 */
export function runTool(file: string, args: string[], timeoutMs: number): Promise<ToolResult | null> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') return resolve(null);
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code: error?.killed ? null : code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    child.stdin?.end();
  });
}
