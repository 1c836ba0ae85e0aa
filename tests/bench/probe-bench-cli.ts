import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestHost } from '../support/test-hosts/test-hosts';

// Our probe the way an operator runs it, as a fresh process like Ansible's:
// `sutazai hosts probe <host>... --concurrency N --json`, over a data directory whose
// inventory holds the lab's hosts with their keys pinned (set up once, not timed). The time
// covers the whole process: Node's start, opening the database, the logins, the probes,
// storing the facts, the exit.

export interface CliRun {
  ms: number;
  exitCode: number | null;
  /** `host: what went wrong` for every host whose result is not `done`. */
  failures: string[];
}

export interface CliProbe {
  /** What is timed, for the report. */
  describe: string;
  run(hosts: readonly TestHost[], concurrency: number, timeoutS: number): Promise<CliRun>;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The command `sutazai` runs once its bundle is built (bin/sutazai.mjs rebuilds it when stale, which is not timed). */
const CLI_BUNDLE = path.join(ROOT, 'dist', 'backend', 'cli.cjs');
const PASSPHRASE = 'probe benchmark passphrase';

export async function prepareCli(dir: string, hosts: readonly TestHost[]): Promise<CliProbe> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const env: NodeJS.ProcessEnv = { ...process.env, SUTAZAI_DATA_DIR: path.join(dir, 'data'), SUTAZAI_PASSPHRASE: PASSPHRASE };
  const list = path.join(dir, 'hosts.json');
  // JSON is YAML; `hosts import` reads it.
  fs.writeFileSync(
    list,
    `${JSON.stringify({ hosts: hosts.map((h) => ({ name: h.name, address: h.address, port: h.port, user: h.user, keyPath: h.privateKeyPath })) }, null, 2)}\n`,
  );
  const knownHosts = path.join(dir, 'known_hosts');
  fs.writeFileSync(
    knownHosts,
    hosts.map((h) => `${h.port === 22 ? h.address : `[${h.address}]:${h.port}`} ${h.hostPublicKey.trim()}\n`).join(''),
  );
  // Through the checkout's launcher: it builds the CLI bundle when its sources changed.
  const launcher = path.join(ROOT, 'bin', 'sutazai.mjs');
  for (const args of [
    ['hosts', 'import', list],
    ['hosts', 'trust', '--known-hosts', knownHosts],
  ]) {
    const result = await capture([launcher, ...args], env);
    if (result.code !== 0) throw new Error(`sutazai ${args.join(' ')} failed (${result.code}): ${result.stderr.trim().slice(-800)}`);
  }
  return {
    describe: `node ${path.relative(ROOT, CLI_BUNDLE)} hosts probe <hosts> --concurrency N --json, a fresh process each run, data dir ${path.join(dir, 'data')}`,
    async run(subset, concurrency, timeoutS) {
      const args = [CLI_BUNDLE, 'hosts', 'probe', ...subset.map((h) => h.name), '--concurrency', String(concurrency)];
      const started = performance.now();
      const result = await capture([...args, '--timeout', String(timeoutS), '--json'], env);
      const ms = performance.now() - started;
      return { ms, exitCode: result.code, failures: judge(subset, result) };
    },
  };
}

/** Every host must be in the JSON results with state `done`. */
function judge(hosts: readonly TestHost[], result: { code: number | null; stdout: string; stderr: string }): string[] {
  let states = new Map<string, string>();
  try {
    const parsed = JSON.parse(result.stdout) as { results?: Array<{ hostName: string; state: string; error?: { code: string } | null }> };
    states = new Map((parsed.results ?? []).map((r) => [r.hostName, r.error ? `${r.state} (${r.error.code})` : r.state]));
  } catch {
    return [`sutazai exited with ${result.code} without a JSON result: ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`];
  }
  return hosts.filter((h) => states.get(h.name) !== 'done').map((h) => `${h.name}: ${states.get(h.name) ?? 'no result in the output'}`);
}

function capture(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') }),
    );
  });
}
