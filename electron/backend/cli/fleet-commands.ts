import {
  ApiError,
  type ApiClient,
  type FleetActionResult,
  type FleetLogLine,
  type FleetProcess,
  type FleetProcessTable,
  type InstallRecord,
  type LogSearch,
} from '../../contract';
import { EXIT } from './exit-codes';
import { formatBytes, formatTable } from './format-text';

/**
 * Watching and steering installed hosts from the command line (issue 12, item 7): the
 * installs, their hosts' processes, logs, and start, stop, restart and scale. Hosts and
 * installs are named as the store knows them; every call goes through the contract's
 * client, as a window's would, and every action is recorded with the OS user who ran it.
 */
export const FLEET_COMMANDS = ['installs', 'status', 'ps', 'logs', 'start', 'stop', 'restart', 'scale'];

export interface FleetCommandContext {
  command: string;
  args: string[];
  values: Record<string, string | boolean | string[] | undefined>;
  json: boolean;
  api: () => Promise<ApiClient>;
  print(text: string, value: unknown): void;
  /** One line of a stream (a followed log, a watched status): text, or one JSON object per line. */
  line(text: string, value: unknown): void;
  /** Resolves when the operator interrupts (Ctrl-C); what follows or watches ends then. */
  interrupted: Promise<void>;
}

/**
 * `sutazai scale HOST PROCESS -1` reads -1 as an unknown option; moved after `--` (where
 * options end), it arrives as the count it is, and the backend names the supported range.
 */
export function negativeCountLast(argv: readonly string[]): string[] {
  if (argv[0] !== 'scale' || argv.includes('--')) return [...argv];
  const negative = argv.filter((arg) => /^-\d+$/.test(arg));
  return negative.length === 0 ? [...argv] : [...argv.filter((arg) => !negative.includes(arg)), '--', ...negative];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A command line the command cannot take: BAD_PARAMS (exit 2), with an example as the remedy. */
export function usage(message: string, example: string): ApiError {
  return new ApiError('BAD_PARAMS', message, `Example: ${example}`);
}

export async function runFleetCommand(ctx: FleetCommandContext): Promise<number> {
  switch (ctx.command) {
    case 'installs':
      return installsList(ctx);
    case 'status':
      return status(ctx);
    case 'ps':
      return ps(ctx);
    case 'logs':
      return logs(ctx);
    case 'scale':
      return scale(ctx);
    default:
      return act(ctx, ctx.command as 'start' | 'stop' | 'restart');
  }
}

async function installsList(ctx: FleetCommandContext): Promise<number> {
  if (ctx.args[0] !== 'list' || ctx.args.length !== 1) throw usage('"installs" takes one command: list.', 'sutazai installs list');
  const installs = await (await ctx.api()).call('installs.list', {});
  const rows = installs.flatMap((install) =>
    install.hosts.map((host) => [
      install.name,
      install.bundle ? `${install.bundle.name}@${install.bundle.version}` : '-',
      host.hostName,
      host.role,
      host.state,
      host.releases[0]?.version ?? '-',
    ]),
  );
  ctx.print(
    installs.length === 0 ? 'No installs yet.' : formatTable(['INSTALL', 'BUNDLE', 'HOST', 'ROLE', 'STATE', 'RELEASE'], rows),
    installs,
  );
  return EXIT.OK;
}

/** A host by name (or id), and that it belongs to an install. */
async function hostIdOf(api: ApiClient, host: string): Promise<number> {
  return (await api.call('hosts.find', { host })).host.id;
}

async function ps(ctx: FleetCommandContext): Promise<number> {
  const [host] = ctx.args;
  if (!host || ctx.args.length !== 1) throw usage('"ps" needs one host name.', 'sutazai ps core-1');
  const api = await ctx.api();
  const table = await api.call('fleet.processes', { hostId: await hostIdOf(api, host) });
  ctx.print(formatProcessTable(table), table);
  return EXIT.OK;
}

export function formatProcessTable(table: FleetProcessTable): string {
  const rows = table.processes.flatMap((process) =>
    process.instances.map((i) => [
      i.instance,
      process.name,
      String(i.replica),
      i.state,
      i.health,
      i.pid === null ? '-' : String(i.pid),
      i.uptimeMs === null ? '-' : formatDuration(i.uptimeMs),
      String(i.restarts),
      i.cpuPercent === null ? '-' : `${i.cpuPercent.toFixed(1)}%`,
      i.rssBytes === null ? '-' : formatBytes(i.rssBytes),
    ]),
  );
  const head = `${table.hostName} (install ${table.installName}), ${new Date(table.atMs).toISOString()}`;
  return `${head}\n${formatTable(['INSTANCE', 'PROCESS', 'REPLICA', 'STATE', 'HEALTH', 'PID', 'UPTIME', 'RESTARTS', 'CPU', 'RSS'], rows)}`;
}

function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`;
}

function summary(process: FleetProcess | null): string {
  if (!process) return '';
  const states = process.instances.map((i) => `${i.instance} ${i.state}`).join(', ');
  return ` (${process.replicas} replica${process.replicas === 1 ? '' : 's'}${states ? `: ${states}` : ''})`;
}

async function act(ctx: FleetCommandContext, action: 'start' | 'stop' | 'restart'): Promise<number> {
  const [host, process] = ctx.args;
  if (!host || !process || ctx.args.length !== 2) throw usage(`"${action}" needs a host and a process.`, `sutazai ${action} core-1 agent`);
  const api = await ctx.api();
  const result: FleetActionResult = await api.call(`fleet.${action}`, { hostId: await hostIdOf(api, host), process });
  const done = { start: 'started', stop: 'stopped', restart: 'restarted' }[action];
  ctx.print(`${process} on ${host}: ${done}${summary(result.after)}`, result);
  return EXIT.OK;
}

async function scale(ctx: FleetCommandContext): Promise<number> {
  const [host, process, count] = ctx.args;
  if (!host || !process || count === undefined || ctx.args.length !== 3)
    throw usage('"scale" needs a host, a process and a number of replicas.', 'sutazai scale core-1 agent 3');
  // A number as written (-1 and 10000 included): the range is the backend's to judge and name.
  if (!/^-?\d+$/.test(count)) throw usage(`"${count}" is not a whole number of replicas.`, 'sutazai scale core-1 agent 3');
  const api = await ctx.api();
  const result = await api.call('fleet.scale', { hostId: await hostIdOf(api, host), process, replicas: Number(count) });
  ctx.print(`${process} on ${host}: scaled to ${count}${summary(result.after)}`, result);
  return EXIT.OK;
}

/** `--since`: an ISO time, or a span back from now (30s, 10m, 2h, 1d). */
export function parseSince(text: string, nowMs: number): number {
  const span = /^(\d+)(s|m|h|d)$/.exec(text);
  if (span) return nowMs - Number(span[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[span[2] as 's' | 'm' | 'h' | 'd'];
  const at = Date.parse(text);
  if (!Number.isFinite(at) || !/^\d{4}-\d{2}-\d{2}/.test(text))
    throw usage(
      `--since "${text}" is neither a time (2026-01-31T12:00:00Z) nor a span back from now (30s, 10m, 2h, 1d).`,
      'sutazai logs core-1 agent --since 10m',
    );
  return at;
}

function lineText(line: FleetLogLine): string {
  const cut = line.cutChars > 0 ? ` [... ${line.cutChars} more characters]` : '';
  // The line's own control characters are escaped on the way out (terminal-output.ts).
  return `${new Date(line.atMs).toISOString()} ${line.instance} ${line.stream === 'stderr' ? 'err' : 'out'} ${line.text}${cut}`;
}

async function logs(ctx: FleetCommandContext): Promise<number> {
  const [host, name] = ctx.args;
  if (!host || !name || ctx.args.length !== 2)
    throw usage('"logs" needs a host and a process or instance.', 'sutazai logs core-1 agent-1 -f');
  const api = await ctx.api();
  const hostId = await hostIdOf(api, host);
  const instance = await instanceOf(api, hostId, host, name);
  const grep = str(ctx.values.grep);
  const search: LogSearch | undefined =
    grep === undefined ? undefined : { pattern: grep, regex: ctx.values.fixed !== true, ignoreCase: ctx.values['ignore-case'] === true };
  const since = str(ctx.values.since);
  const sinceMs = since === undefined ? undefined : parseSince(since, Date.now());
  const linesValue = str(ctx.values.lines);
  const lines = linesValue === undefined ? undefined : Number(linesValue);
  if (lines !== undefined && !(Number.isInteger(lines) && lines >= 0))
    throw usage(`--lines "${linesValue}" is not a whole number.`, 'sutazai logs core-1 agent-1 --lines 500');
  const filters = { ...(sinceMs !== undefined ? { sinceMs } : {}), ...(search ? { search } : {}) };

  if (ctx.values.follow !== true) {
    const result = await api.call('fleet.logs', { hostId, instance, ...(lines !== undefined && lines > 0 ? { lines } : {}), ...filters });
    const notes = [
      result.omitted > 0 ? `(${result.omitted} older matching lines left out: ask for fewer or narrow the search)` : null,
      result.complete ? null : '(older lines that might match were out of reach: the runtime keeps the last 10000 lines within reach)',
    ].filter((n): n is string => n !== null);
    ctx.print([...result.lines.map(lineText), ...notes].join('\n'), result);
    return EXIT.OK;
  }

  let failure: ApiError | null = null;
  let ended!: () => void;
  const end = new Promise<void>((resolve) => (ended = resolve));
  const unsubscribe = await api.subscribe(
    'fleet.logFollow',
    { hostId, instance, lines: lines ?? 10, ...filters },
    (payload) => {
      if (payload.kind === 'lines') {
        for (const line of payload.lines) ctx.line(lineText(line), line);
        return;
      }
      if (payload.error) failure = ApiError.fromBody(payload.error);
      ended();
    },
    // The backend ended the follow: the --as operator may no longer read these logs.
    (error) => {
      failure = error;
      ended();
    },
  );
  await Promise.race([end, ctx.interrupted]);
  await unsubscribe().catch(() => undefined);
  if (failure) throw failure;
  return EXIT.OK;
}

/** A process name with one instance, or an instance name, as the host's runtime knows it. */
async function instanceOf(api: ApiClient, hostId: number, host: string, name: string): Promise<string> {
  const table = await api.call('fleet.processes', { hostId });
  const instances = table.processes.flatMap((p) => p.instances.map((i) => i.instance));
  if (instances.includes(name)) return name;
  const process = table.processes.find((p) => p.name === name);
  if (process && process.instances.length === 1) return process.instances[0]!.instance;
  if (process && process.instances.length > 1)
    throw usage(
      `${name} on ${host} runs ${process.instances.length} instances (${process.instances.map((i) => i.instance).join(', ')}); name one.`,
      `sutazai logs ${host} ${process.instances[0]!.instance}`,
    );
  throw new ApiError(
    'FLEET_PROCESS_NOT_FOUND',
    `The runtime on ${host} runs no process or instance named "${name}" (instances: ${instances.join(', ') || 'none'}).`,
    `List them with \`sutazai ps ${host}\` and use a name from there.`,
  );
}

async function status(ctx: FleetCommandContext): Promise<number> {
  if (ctx.args.length !== 0) throw usage('"status" takes no arguments but --install and --watch.', 'sutazai status --install lab --watch');
  const api = await ctx.api();
  const wanted = str(ctx.values.install);
  const once = async (): Promise<{ text: string; value: unknown }> => {
    const installs: InstallRecord[] = wanted ? [await api.call('installs.get', { name: wanted })] : await api.call('installs.list', {});
    const hosts = await Promise.all(
      installs.flatMap((install) =>
        install.hosts.map(async (host) => {
          const table = await api.call('fleet.processes', { hostId: host.hostId }).then(
            (t) => ({ ok: true as const, table: t }),
            (error: unknown) => ({
              ok: false as const,
              error: error instanceof ApiError ? error.toBody() : { code: 'INTERNAL', message: String(error), remedy: '' },
            }),
          );
          return { install: install.name, host: host.hostName, hostId: host.hostId, role: host.role, ...table };
        }),
      ),
    );
    const rows = hosts.map((h) => {
      if (!h.ok) return [h.install, h.host, h.role, 'unreachable', '-', `${h.error.code}: ${h.error.message}`];
      const all = h.table.processes.flatMap((p) => p.instances);
      const byState = new Map<string, number>();
      for (const i of all) byState.set(i.state, (byState.get(i.state) ?? 0) + 1);
      const healthy = all.filter((i) => i.health === 'healthy').length;
      return [
        h.install,
        h.host,
        h.role,
        healthy === all.length ? 'healthy' : 'degraded',
        `${healthy}/${all.length}`,
        [...byState].map(([s, n]) => `${n} ${s}`).join(', '),
      ];
    });
    const text =
      installs.length === 0 ? 'No installs yet.' : formatTable(['INSTALL', 'HOST', 'ROLE', 'STATUS', 'HEALTHY', 'PROCESSES'], rows);
    return { text, value: { atMs: Date.now(), hosts } };
  };
  if (ctx.values.watch !== true) {
    const { text, value } = await once();
    ctx.print(text, value);
    return EXIT.OK;
  }
  // Until interrupted: a fresh table every 2 s.
  let stop = false;
  void ctx.interrupted.then(() => (stop = true));
  while (!stop) {
    const { text, value } = await once();
    ctx.line(`${new Date().toISOString()}\n${text}\n`, value);
    await Promise.race([new Promise((r) => setTimeout(r, 2000)), ctx.interrupted]);
  }
  return EXIT.OK;
}
