import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run web` (scripts/web.mjs) as the e2e tests run it: a child on a fresh data
 * directory and a free port, its output kept for the failure message, stopped the way
 * an operator's Ctrl+C or a service manager would.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The renderer as `npm run web` serves it (React's production build) and as the e2e tests see it (development). */
export const WEB_RENDERER_DIR = path.join(root, 'dist', 'renderer-web');
const DEVELOPMENT_RENDERER_DIR = path.join(root, 'dist', 'renderer');
/** web.mjs builds the backend and renderer first when they are stale. */
export const SERVER_START_TIMEOUT_MS = 150_000;
/** How long a stop waits after SIGTERM before it sends SIGKILL. */
export const STOP_GRACE_MS = 10_000;
const KILL_WAIT_MS = 5_000;
const URL_PATTERN = /http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9._~%-]+)/;

export interface WebModeServer {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * `extraEnv` adds to this process's environment (e.g. SUTAZAI_PASSPHRASE); `extraArgs` to its flags (--listen, --tls-cert...);
 * `nodeArgs` to Node's own, before the script (V8 flags Node refuses in NODE_OPTIONS, e.g. --min-semi-space-size).
 */
export function startWebModeServer(
  dataDir: string,
  extraEnv: Record<string, string> = {},
  extraArgs: readonly string[] = [],
  nodeArgs: readonly string[] = [],
): WebModeServer {
  // Its own process group, so a stop reaches whatever the script started (a build, the backend).
  const child = spawn(process.execPath, [...nodeArgs, 'scripts/web.mjs', '--port', '0', '--data-dir', dataDir, ...extraArgs], {
    cwd: root,
    // React's development build (dist/renderer), whose warnings the tests' page checks see; `npm run web` alone serves
    // the production one (dist/renderer-web), which extraEnv can ask for (the fleet benchmark does).
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', SUTAZAI_RENDERER_DIR: DEVELOPMENT_RENDERER_DIR, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, output: () => output, exited };
}

/**
 * Resolves with the `http://127.0.0.1:<port>/?token=<token>` line the server prints once ready
 * (or, for web mode for a team, the address `pattern` matches).
 */
export function waitForUrl(server: WebModeServer, timeoutMs = SERVER_START_TIMEOUT_MS, pattern = URL_PATTERN): Promise<string> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      const match = pattern.exec(server.output());
      if (match) {
        clearInterval(timer);
        resolve(match[0]);
      } else if (server.child.exitCode !== null || server.child.signalCode !== null) {
        clearInterval(timer);
        reject(
          new Error(`web.mjs exited (${server.child.exitCode ?? server.child.signalCode}) before printing its URL:\n${server.output()}`),
        );
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(timer);
        reject(new Error(`web.mjs printed no http://127.0.0.1:<port>/?token=<token> line within ${timeoutMs} ms:\n${server.output()}`));
      }
    }, 100);
  });
}

/** SIGTERM, then SIGKILL after STOP_GRACE_MS; says whether SIGTERM alone was enough. */
export async function stopWebModeServer(server: WebModeServer): Promise<'terminated' | 'killed'> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return 'terminated';
  signalGroup(server.child, 'SIGTERM');
  if ((await within(server.exited, STOP_GRACE_MS)) !== 'timeout') return 'terminated';
  signalGroup(server.child, 'SIGKILL');
  await within(server.exited, KILL_WAIT_MS);
  return 'killed';
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
}

function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  return Promise.race([promise, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms))]);
}
