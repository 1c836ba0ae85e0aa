import { spawn, spawnSync } from 'node:child_process';

/** Where the harness looks for system binaries, whatever PATH the test runner was given. */
export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The environment every child of the harness gets: nothing inherited from the test runner. */
export const CHILD_ENV: NodeJS.ProcessEnv = { PATH: SYSTEM_PATH, LANG: 'C', LC_ALL: 'C' };

export interface CommandOptions {
  /** Written to the child's stdin, which is then closed. */
  input?: string;
  /** Hard limit; the child is killed with SIGKILL when it passes. */
  timeoutMs?: number;
  /** Exit codes that count as success (default: only 0); 'any' for commands under test. */
  okCodes?: readonly number[] | 'any';
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

// A bound for a hung command, not a speed check: on a loaded machine (CI and benches share two
// cores) generating a 3072-bit RSA key took over 15 s.
const DEFAULT_TIMEOUT_MS = 60_000;
const OUTPUT_LIMIT = 1024 * 1024;

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: CommandResult,
    reason: string,
  ) {
    super(`\`${argv.join(' ')}\` ${reason}${result.stderr.trim() ? `: ${result.stderr.trim().slice(-600)}` : ''}`);
    this.name = 'CommandError';
  }
}

/** Runs argv (no shell) and resolves with its output; rejects on a bad exit code or the timeout. */
export function runCommand(argv: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new Error('runCommand: empty argv'));
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const okCodes = options.okCodes ?? [0];
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: CHILD_ENV, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (stdout.length < OUTPUT_LIMIT) stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < OUTPUT_LIMIT) stderr += chunk;
    });
    child.stdin.on('error', () => {
      // The child may exit without reading its input; its exit code tells what happened.
    });
    child.stdin.end(options.input ?? '');
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new CommandError(argv, { code: -1, stdout, stderr: String(error) }, 'could not start'));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code: code ?? -1, stdout, stderr };
      if (timedOut) reject(new CommandError(argv, result, `timed out after ${timeoutMs} ms`));
      else if (signal !== null) reject(new CommandError(argv, result, `was killed by ${signal}`));
      else if (okCodes !== 'any' && !okCodes.includes(result.code)) reject(new CommandError(argv, result, `exited with ${result.code}`));
      else resolve(result);
    });
  });
}

/**
 * The synchronous twin of runCommand, for teardown from a process 'exit' handler where
 * nothing asynchronous runs any more.
 */
export function runCommandSync(argv: readonly string[], options: CommandOptions = {}): CommandResult {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('runCommandSync: empty argv');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const okCodes = options.okCodes ?? [0];
  const out = spawnSync(file, args, {
    env: CHILD_ENV,
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: OUTPUT_LIMIT,
  });
  const result = { code: out.status ?? -1, stdout: out.stdout ?? '', stderr: out.stderr ?? '' };
  if (out.error) {
    const reason =
      (out.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? `timed out after ${timeoutMs} ms` : `failed (${out.error.message})`;
    throw new CommandError(argv, result, reason);
  }
  if (out.signal !== null) throw new CommandError(argv, result, `was killed by ${out.signal}`);
  if (okCodes !== 'any' && !okCodes.includes(result.code)) throw new CommandError(argv, result, `exited with ${result.code}`);
  return result;
}
