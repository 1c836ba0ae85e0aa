/**
 * The `sutazai-runtime` command: the daemon (`run`), a status table over the gRPC API
 * (`status`), and `stop-all`, which systemd's ExecStop uses to stop every process before
 * the daemon exits. Bundled into one CommonJS file by agents-runtime/build-runtime.mjs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LockHeldError } from '../daemon/daemon-lock';
import { loadRuntimeConfig, type RuntimeConfig } from '../daemon/runtime-config';
import { RUNTIME_VERSION, startRuntimeDaemon, type DaemonLog } from '../daemon/runtime-daemon';
import { keepYoungGenerationSmall } from '../daemon/memory-trim';
import type { ListProcessesResponse__Output } from '../generated/sutazai/runtime/v1/ListProcessesResponse';
import { RuntimeError } from '../runtime-error';
import { runtimeErrorFromMetadata } from '../wire/error-metadata';
import { dropDaemonOnlyEnv } from '../wire/launch-env';
import { runtimeServiceCodecs } from '../wire/runtime-api-codec';
import { visibleJson, visibleLines } from '../wire/visible-text';
import { callUnary } from '../grpc-http2/grpc-unary-client';
import { GrpcCode, grpcCodeName } from '../grpc-http2/status-codes';
import { runStopAll } from './stop-all';
import { AUDIT_LOG_FILE, verifyAuditFile } from '../audit/audit-file';

/** Exit codes; documented in --help. */
export const EXIT = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  CONFIG: 3,
  LOCKED: 4,
  UNREACHABLE: 5,
  DENIED: 6,
  LEFTOVERS: 7,
  /** audit-verify: the audit log is not as appended. */
  AUDIT_BROKEN: 8,
} as const;

const HELP = `sutazai-runtime ${RUNTIME_VERSION}: supervises the SutazAI core and agents on this machine.

Usage:
  sutazai-runtime run --config FILE
      Runs the daemon in the foreground (for systemd or any supervisor); one JSON log
      line per event on stdout. SIGTERM/SIGINT stop the daemon and leave the processes
      running (they are re-adopted on the next start); SIGUSR2 stops them all first.
      "sutazai-runtime --config FILE" is the same.
  sutazai-runtime status --config FILE [--json] [--cert FILE --key FILE] [--timeout-ms N]
      Prints the processes (name, instance, state, pid, restarts, uptime) as the daemon
      named in the config reports them over gRPC + TLS. The client certificate comes from
      --cert/--key or the config's client: section (any role).
  sutazai-runtime stop-all --config FILE [--timeout-ms N]
      Stops every process in reverse dependency order, then the daemon (systemd ExecStop).
      Works on this machine only (the user the daemon runs as, or root); without a running
      daemon it stops the processes a previous one left behind.
  sutazai-runtime audit-verify --config FILE [--anchor SEQ:HASH] [--json]
      Checks the runtime's audit log (<state_dir>/audit.log and its sealed segments
      audit.log.<seq>: every state-changing call and every refusal, hash-chained) entry
      by entry; names the first entry edited, removed or reordered, and where the kept
      chain starts after the oldest segments were dropped by the config's audit.keep_files.
      --anchor: an entry noted earlier must still be there.
  sutazai-runtime --help | --version

Exit codes:
  0 ok   1 failed   2 usage   3 config, manifest or certificate invalid
  4 another daemon holds the state_dir   5 daemon unreachable   6 permission denied
  7 processes were left running after stop-all   8 the audit log is not as appended
`;

class UsageError extends Error {}

/** --timeout-ms: a whole number of milliseconds, 1 to 24 hours' worth; `fallback` when not given. */
function timeoutFlag(args: Args, fallback: number): number {
  const given = stringFlag(args, 'timeout-ms');
  if (given === undefined) return fallback;
  if (!/^\d{1,8}$/.test(given) || Number(given) < 1 || Number(given) > 86_400_000)
    throw new UsageError(`--timeout-ms takes a whole number of milliseconds from 1 to 86400000, not "${given}"`);
  return Number(given);
}

interface Args {
  command: string;
  flags: Map<string, string | true>;
}

const VALUE_FLAGS = new Set(['config', 'cert', 'key', 'timeout-ms', 'anchor']);
const BOOL_FLAGS = new Set(['json', 'help', 'version']);

export function parseArgs(argv: string[]): Args {
  const flags = new Map<string, string | true>();
  let command: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '-h') {
      flags.set('help', true);
    } else if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
      if (BOOL_FLAGS.has(name)) flags.set(name, true);
      else if (VALUE_FLAGS.has(name)) {
        const value = inline ?? argv[++i];
        if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
        flags.set(name, value);
      } else throw new UsageError(`unknown option ${arg}`);
    } else if (command === undefined) {
      command = arg;
    } else throw new UsageError(`unexpected argument ${arg}`);
  }
  return { command: command ?? (flags.has('config') ? 'run' : 'help'), flags };
}

function stringFlag(args: Args, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

function requireConfig(args: Args): RuntimeConfig {
  const file = stringFlag(args, 'config');
  if (file === undefined) throw new UsageError('--config FILE is required (e.g. /etc/sutazai/runtime.yaml)');
  return loadRuntimeConfig(file);
}

function jsonLog(): DaemonLog {
  const line = (level: string) => (fields: object, msg: string) => {
    const record: Record<string, unknown> = { time: new Date().toISOString(), level, msg };
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) record[k] = v instanceof Error ? v.message : v;
    process.stdout.write(`${JSON.stringify(record)}\n`);
  };
  return { info: line('info'), warn: line('warn'), error: line('error') };
}

function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return EXIT.USAGE;
  if (error instanceof LockHeldError) return EXIT.LOCKED;
  if (error instanceof RuntimeError) {
    if (['CONFIG_INVALID', 'MANIFEST_INVALID', 'MANIFEST_CYCLE', 'CERTIFICATE_INVALID'].includes(error.code)) return EXIT.CONFIG;
    if (error.code === 'PERMISSION_DENIED') return EXIT.DENIED;
  }
  return EXIT.FAILED;
}

function printError(error: unknown): void {
  if (error instanceof UsageError) {
    process.stderr.write(visibleLines(`sutazai-runtime: ${error.message}\nRun "sutazai-runtime --help" for usage.\n`));
  } else if (error instanceof RuntimeError) {
    process.stderr.write(visibleLines(`sutazai-runtime: ${error.code}: ${error.message}\n  remedy: ${error.remedy}\n`));
  } else {
    process.stderr.write(
      visibleLines(
        `sutazai-runtime: INTERNAL: ${error instanceof Error ? error.message : String(error)}\n  remedy: this is a defect of sutazai-runtime; report it with the output above\n`,
      ),
    );
  }
}

// ---- run -----------------------------------------------------------------------------

async function run(args: Args): Promise<number> {
  keepYoungGenerationSmall();
  // glibc has read the launchers' malloc settings; the programs this daemon starts do not get them.
  dropDaemonOnlyEnv(process.env);
  const log = jsonLog();
  let config: RuntimeConfig;
  try {
    config = requireConfig(args);
  } catch (error) {
    logStartFailure(log, error);
    throw error;
  }
  log.info({ version: RUNTIME_VERSION, config: config.file, pid: process.pid }, 'sutazai-runtime starting');
  let daemon: Awaited<ReturnType<typeof startRuntimeDaemon>>;
  try {
    daemon = await startRuntimeDaemon(config, { log });
  } catch (error) {
    logStartFailure(log, error);
    throw error;
  }
  log.info({ runtimeId: daemon.runtimeId, address: daemon.server?.address ?? null }, 'sutazai-runtime ready');

  return await new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = (signal: string, stopChildren: boolean): void => {
      if (stopping) return;
      stopping = true;
      log.info(
        { signal, stopChildren },
        stopChildren ? 'stop-all requested: stopping every process, then exiting' : 'stopping the daemon; processes keep running',
      );
      daemon.close(stopChildren).then(
        () => resolve(EXIT.OK),
        (error: unknown) => {
          log.error({ err: String(error) }, 'error while stopping');
          resolve(EXIT.FAILED);
        },
      );
    };
    process.on('SIGTERM', () => shutdown('SIGTERM', false));
    process.on('SIGINT', () => shutdown('SIGINT', false));
    process.on('SIGUSR2', () => shutdown('SIGUSR2', true));
    process.on('SIGHUP', () => log.info({}, 'SIGHUP ignored: send the new manifest with UpdateManifest, or restart the daemon'));
  });
}

function logStartFailure(log: DaemonLog, error: unknown): void {
  if (error instanceof RuntimeError) log.error({ code: error.code, remedy: error.remedy }, error.message);
  else if (!(error instanceof UsageError)) log.error({ code: 'INTERNAL', err: String(error) }, 'sutazai-runtime could not start');
}

// ---- status --------------------------------------------------------------------------

function clientTarget(listen: string): string {
  return listen.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:');
}

/** `host:port` or `[v6]:port` (the config's listen, checked when the config was loaded). */
function hostAndPort(target: string): { host: string; port: number } {
  const colon = target.lastIndexOf(':');
  return { host: target.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(target.slice(colon + 1)) };
}

function readPem(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (cause) {
    throw new RuntimeError(
      'CERTIFICATE_INVALID',
      `cannot read the ${what} ${file} (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`,
      `check the path given with --cert/--key or in the config's client: section`,
    );
  }
}

export function formatUptime(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d${h}h`;
  if (h > 0) return `${h}h${m}m`;
  if (m > 0) return `${m}m${s % 60}s`;
  return `${s}s`;
}

export function formatTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length)));
  return rows.map((r) => r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]!))).join('  ')).join('\n') + '\n';
}

async function status(args: Args): Promise<number> {
  const config = requireConfig(args);
  const certFile = stringFlag(args, 'cert') ?? config.client?.cert;
  const keyFile = stringFlag(args, 'key') ?? config.client?.key;
  if (certFile === undefined || keyFile === undefined) {
    throw new UsageError('a client certificate is needed: pass --cert FILE --key FILE, or add client: { cert, key } to the config');
  }
  const timeoutMs = timeoutFlag(args, 10_000);
  const listProcesses = runtimeServiceCodecs()['sutazai.runtime.v1.Runtime']!['ListProcesses']!;
  const target = clientTarget(config.listen);
  const { host, port } = hostAndPort(target);
  const result = await callUnary({
    host,
    port,
    tls: {
      caPem: readPem(config.tls.ca, 'CA certificate'),
      keyPem: readPem(keyFile, 'client key'),
      certPem: readPem(certFile, 'client certificate'),
    },
    path: listProcesses.path,
    request: listProcesses.requestSerialize({}),
    timeoutMs,
  });
  if (result.code !== GrpcCode.OK || result.response === null) {
    const runtime = runtimeErrorFromMetadata(result.metadata);
    if (result.code === GrpcCode.UNAVAILABLE || result.code === GrpcCode.DEADLINE_EXCEEDED) {
      process.stderr.write(
        visibleLines(
          `sutazai-runtime: UNAVAILABLE: cannot reach the daemon at ${target} (${result.details})\n  remedy: is it running (systemctl status sutazai-runtime)? Check listen: in ${config.file}, and that the client certificate comes from the install's CA\n`,
        ),
      );
      return EXIT.UNREACHABLE;
    }
    const code = runtime?.code ?? grpcCodeName(result.code);
    process.stderr.write(
      visibleLines(`sutazai-runtime: ${code}: ${result.details}\n${runtime?.remedy ? `  remedy: ${runtime.remedy}\n` : ''}`),
    );
    return result.code === GrpcCode.PERMISSION_DENIED || result.code === GrpcCode.UNAUTHENTICATED ? EXIT.DENIED : EXIT.FAILED;
  }
  printProcesses(listProcesses.responseDeserialize(result.response) as ListProcessesResponse__Output, args);
  return EXIT.OK;
}

function printProcesses(response: ListProcessesResponse__Output, args: Args): void {
  if (args.flags.has('json')) process.stdout.write(`${visibleJson({ processes: response.processes }, 2)}\n`);
  else process.stdout.write(processTable(response, Date.now()));
}

/** The status table; each cell made safe before the columns are measured: a program's last error carries its own output. */
export function processTable(response: ListProcessesResponse__Output, now: number): string {
  const rows = [['NAME', 'INSTANCE', 'STATE', 'PID', 'RESTARTS', 'UPTIME', 'LAST ERROR']];
  for (const p of response.processes) {
    if (p.instances.length === 0) rows.push([p.name, '-', 'scaled to 0', '-', '-', '-', '']);
    for (const i of p.instances) {
      const started = Number(i.startedAtMs);
      const state = i.state
        .replace(/^PROCESS_STATE_/, '')
        .toLowerCase()
        .replace(/_/g, '-');
      rows.push([
        p.name,
        i.instance,
        state,
        i.pid > 0 ? String(i.pid) : '-',
        String(i.restarts),
        i.pid > 0 && started > 0 ? formatUptime(now - started) : '-',
        i.lastError === null ? '' : `${i.lastError.code}: ${i.lastError.message}`,
      ]);
    }
  }
  return formatTable(rows.map((row) => row.map((cell) => visibleLines(cell).replace(/[\n\t]/g, ' '))));
}

// ---- audit-verify --------------------------------------------------------------------

function auditVerify(args: Args): number {
  const config = requireConfig(args);
  const anchorText = stringFlag(args, 'anchor');
  const match = anchorText === undefined ? null : /^(\d{1,15}):([0-9a-f]{64})$/.exec(anchorText);
  if (anchorText !== undefined && match === null)
    throw new UsageError(`--anchor "${anchorText}" is not SEQ:HASH (a number, a colon, 64 hex digits)`);
  const result = verifyAuditFile(
    path.join(config.stateDir, AUDIT_LOG_FILE),
    match === null ? undefined : { seq: Number(match[1]), hash: match[2]! },
  );
  if (args.flags.has('json')) process.stdout.write(`${visibleJson(result, 2)}\n`);
  else if (result.broken !== null)
    process.stdout.write(
      visibleLines(
        `${result.kept?.anchorDropped === true ? `The audit log could NOT be verified: your anchor, entry ${result.broken.seq}, is older than the oldest entry kept.` : `The audit log is NOT as appended: ${result.broken.kind} at entry ${result.broken.seq}.`}\n${result.broken.message}\n`,
      ),
    );
  else
    process.stdout.write(
      `The audit log is as appended: ${result.entries} ${result.entries === 1 ? 'entry' : 'entries'} in ${result.segments} ${result.segments === 1 ? 'segment' : 'segments'}.\n${result.kept === null ? '' : `${result.kept.message}\n`}${result.head === null ? '' : `Newest entry: ${result.head.seq}:${result.head.hash}\n`}`,
    );
  return result.broken === null ? EXIT.OK : EXIT.AUDIT_BROKEN;
}

// ---- main ----------------------------------------------------------------------------

export async function main(argv: string[]): Promise<number> {
  try {
    const args = parseArgs(argv);
    if (args.flags.has('help') || args.command === 'help') {
      process.stdout.write(HELP);
      return EXIT.OK;
    }
    if (args.flags.has('version')) {
      process.stdout.write(`${RUNTIME_VERSION}\n`);
      return EXIT.OK;
    }
    switch (args.command) {
      case 'run':
        return await run(args);
      case 'status':
        return await status(args);
      case 'stop-all': {
        const config = requireConfig(args);
        return await runStopAll(config, {
          timeoutMs: timeoutFlag(args, 115_000),
          out: (line) => process.stdout.write(`${line}\n`),
        });
      }
      case 'audit-verify':
        return auditVerify(args);
      default:
        throw new UsageError(`unknown command "${args.command}"; commands: run, status, stop-all, audit-verify`);
    }
  } catch (error) {
    printError(error);
    return exitCodeFor(error);
  }
}

// Run when executed (the bundle, or `tsx agents-runtime/src/cli/sutazai-runtime.ts`), not when imported by tests.
if (process.env.SUTAZAI_RUNTIME_BUNDLED === '1' || /sutazai-runtime\.(ts|c?js)$/.test(process.argv[1] ?? '')) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
