import fs from 'node:fs';
import path from 'node:path';
import {
  ApiError,
  type Alert,
  type EventsListParams,
  type EventsPage,
  type HostFacts,
  type HostPreflight,
  type SupportTarget,
} from '../../../contract';
import { describeOrigin } from '../../config/config-layer';
import { loadInstallConfig } from '../../config/load-install-config';
import type { LinkTarget } from '../../fleet/link/link-types';
import type { ConnectionSource } from '../../fleet/processes/connection-source';
import { describeProcesses } from '../../fleet/processes/process-table';
import type { RuntimeConnection } from '../../fleet/runtime-connection';
import { readRecordedDefinition } from '../../install/definition/recorded-definition';
import { hostNotFoundError } from '../../store/host-not-found';
import type { HostRow } from '../../store/hosts-repo';
import type { InstallRow } from '../../store/installs-repo';

/** One file of a support bundle, before redaction. */
export interface CollectedFile {
  path: string;
  text: string;
}

export interface Collection {
  targetName: string;
  collectedAtMs: number;
  /** Host names and addresses of the inventory and the names the hosts report: what the optional host-name rule replaces. */
  hostNames: string[];
  files: CollectedFile[];
  /** What could not be collected, in words. */
  gaps: string[];
  versions: Record<string, string>;
}

/** Where a collection reads from: the store's repositories and services, and the hosts' runtimes. */
export interface SupportSources {
  hosts: { list(): HostRow[]; get(id: number): HostRow | undefined };
  installs: {
    findByName(name: string): InstallRow | null;
    get(id: number): InstallRow | null;
    hosts(installId: number): Array<{ hostId: number }>;
    installOfHost(hostId: number): { installId: number; name: string } | null;
  };
  bundleVersion(bundleId: number): string | null;
  latestFacts(hostId: number): HostFacts | null;
  preflightHistory(hostId: number, limit: number): HostPreflight[];
  events(params: EventsListParams): EventsPage;
  alerts(hostId: number): Alert[];
  connections: ConnectionSource;
  /**
   * The one-call token a log read made for `operatorName` carries (fleet/credentials): the
   * bundle is collected as the signed-in operator, so each runtime checks and records them,
   * as for the Logs page. Refused (no token): that log is a gap, never read as the control center.
   */
  tokenFor?: (target: LinkTarget, operatorName: string) => Promise<string>;
  /**
   * The host's memory use over a window (the store's metrics: time, mean, min, max per
   * point), for the memory-pressure analyzer; absent where no metrics are kept.
   */
  memoryReadings?(hostId: number, fromMs: number, toMs: number): Array<[number, number, number, number]>;
  /** The recorded certificates the installs depend on (runtime certificates and install CAs) with their expiry. */
  certificates?(): ReadonlyArray<{ installName: string; hostId: number | null; what: string; notAfterMs: number }>;
  /** The control center's own log files, newest last. */
  appLogFiles(): string[];
  appVersion: string;
  configDir: string | undefined;
  configEnv: Readonly<Record<string, string | undefined>> | undefined;
  now(): number;
}

/** The most events per host a bundle carries (newest first, 50 a page). */
const MAX_EVENTS = 2_000;
/** The most of the control center's own log (lines naming the target) a bundle carries, from its end. */
const MAX_APP_LOG_BYTES = 4 * 1024 * 1024;
/** How far back a bundle carries a host's memory use (the metrics' 1-minute tier keeps it). */
const MEMORY_WINDOW_MS = 24 * 3600 * 1000;
/**
 * The lines one tail by lines answers at most (the runtime's TAIL_MAX_LINES): asked along with
 * the bytes, for a runtime older than TailLogs' max_bytes, which answers by lines.
 */
const RUNTIME_TAIL_LINES = 10_000;

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/**
 * Collects what a vendor needs to diagnose an install or a host: each host's inventory
 * entry, facts, preflight results, events, alerts and merged configuration with the layer
 * of each key; through its runtime its state, process list and each instance's last log;
 * the control center's own log lines naming the target; versions. A part that cannot be
 * read (a host offline) becomes a gap, said in the bundle, not a failed collection.
 */
export async function collectSupport(
  sources: SupportSources,
  target: SupportTarget,
  options: { logBytesPerProcess: number; operator?: string | null },
): Promise<Collection> {
  const { targetName, install, hosts } = resolveTarget(sources, target);
  const files: CollectedFile[] = [];
  const gaps: string[] = [];
  const versions: Record<string, string> = {
    'control-center': sources.appVersion,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
  const definition = install ? readRecordedDefinition(install.definition) : null;
  if (install) {
    versions.bundle = sources.bundleVersion(install.bundleId) ?? 'unknown (the bundle was removed)';
    files.push({ path: 'install/definition.json', text: json({ name: install.name, definition, installFile: install.installFile }) });
  }
  for (const host of hosts) {
    const dir = `hosts/${host.name}`;
    const { secretId: _secret, sudoSecretId: _sudo, ...entry } = host;
    files.push({ path: `${dir}/host.json`, text: json(entry) });
    const facts = sources.latestFacts(host.id);
    if (facts) files.push({ path: `${dir}/facts.json`, text: json(facts) });
    else gaps.push(`${host.name}: never probed, so no facts`);
    files.push({ path: `${dir}/preflight.json`, text: json(sources.preflightHistory(host.id, 5)) });
    files.push({ path: `${dir}/events.json`, text: json(eventsOf(sources, host.id)) });
    files.push({ path: `${dir}/alerts.json`, text: json(sources.alerts(host.id)) });
    const hostInstall = install ?? installOf(sources, host.id);
    if (sources.memoryReadings) {
      const toMs = sources.now();
      const points = sources.memoryReadings(host.id, toMs - MEMORY_WINDOW_MS, toMs);
      files.push({ path: `${dir}/memory.json`, text: json({ series: 'memory.used_percent', windowMs: MEMORY_WINDOW_MS, points }) });
    }
    if (sources.certificates) {
      const mine = sources
        .certificates()
        .filter((c) => c.hostId === host.id || (c.hostId === null && hostInstall !== null && c.installName === hostInstall.name))
        .map(({ installName, what, notAfterMs }) => ({ installName, what, notAfterMs }));
      files.push({ path: `${dir}/certificates.json`, text: json(mine) });
    }
    if (!hostInstall) continue;
    const config = mergedConfig(sources, hostInstall, host.name);
    if ('error' in config) gaps.push(`${host.name}: its configuration could not be merged: ${config.error}`);
    else files.push({ path: `${dir}/config.json`, text: json(config.settings) });
    await collectRuntime(sources, host, options, files, gaps, versions);
  }
  const appLog = appLogLines(sources, [targetName, ...hosts.map((h) => h.name)]);
  files.push({ path: 'control-center/control-center.log', text: appLog });
  files.push({ path: 'versions.json', text: json(versions) });
  // The names the hosts report of themselves too (facts' hostname): a vendor must not learn the site's names from them.
  const hostNames = [
    ...new Set(
      sources.hosts.list().flatMap((h) => (h.kind === 'local' ? [] : [h.name, h.address, ...reportedNames(sources.latestFacts(h.id))])),
    ),
  ];
  return { targetName, collectedAtMs: sources.now(), hostNames, files, gaps, versions };
}

/** The name a host reports (facts' hostname) and, for a dotted one, its first label (`web01` of `web01.site.example`), as logs often write it. */
function reportedNames(facts: HostFacts | null): string[] {
  const name = facts?.os.hostname.trim() ?? '';
  if (name === '') return [];
  const label = name.split('.')[0]!;
  return label !== name && label.length >= 3 ? [name, label] : [name];
}

function resolveTarget(
  sources: SupportSources,
  target: SupportTarget,
): { targetName: string; install: InstallRow | null; hosts: HostRow[] } {
  if ('install' in target) {
    const install = sources.installs.findByName(target.install);
    if (!install) throw installNotFound(target.install);
    const hosts = sources.installs
      .hosts(install.id)
      .map((h) => sources.hosts.get(h.hostId))
      .filter((h): h is HostRow => h !== undefined);
    return { targetName: install.name, install, hosts };
  }
  const host = sources.hosts.get(target.hostId);
  if (!host) throw hostNotFoundError(target.hostId);
  return { targetName: host.name, install: null, hosts: [host] };
}

function installOf(sources: SupportSources, hostId: number): InstallRow | null {
  const owner = sources.installs.installOfHost(hostId);
  return owner ? sources.installs.get(owner.installId) : null;
}

function eventsOf(sources: SupportSources, hostId: number): EventsPage['events'] {
  const events: EventsPage['events'] = [];
  let after: EventsListParams['after'];
  while (events.length < MAX_EVENTS) {
    const page = sources.events({ hostId, limit: 50, ...(after ? { after } : {}) });
    events.push(...page.events);
    if (!page.next) break;
    after = page.next;
  }
  return events;
}

/** Each key of the host's merged configuration with its value and the layer that set it (and those it overrode). */
function mergedConfig(
  sources: SupportSources,
  install: InstallRow,
  hostName: string,
): { settings: Array<{ key: string; value: unknown; layer: string; overrode: string[] }> } | { error: string } {
  const definition = readRecordedDefinition(install.definition);
  if (!definition) return { error: 'the install was applied before its definition was kept; apply it again' };
  const host = definition.hosts.find((h) => h.name === hostName);
  try {
    const loaded = loadInstallConfig({
      ...(sources.configDir !== undefined ? { configDir: sources.configDir } : {}),
      ...(definition.environment !== undefined ? { environment: definition.environment } : {}),
      install: definition.layers,
      ...(host?.config ? { host: host.config } : {}),
      ...(sources.configEnv ? { env: sources.configEnv } : {}),
    });
    return {
      settings: [...loaded.merged.settings].map(([key, history]) => ({
        key,
        value: history.at(-1)!.value,
        layer: describeOrigin(history.at(-1)!.origin),
        overrode: history.slice(0, -1).map((h) => describeOrigin(h.origin)),
      })),
    };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

async function collectRuntime(
  sources: SupportSources,
  host: HostRow,
  options: { logBytesPerProcess: number; operator?: string | null },
  files: CollectedFile[],
  gaps: string[],
  versions: Record<string, string>,
): Promise<void> {
  const dir = `hosts/${host.name}/runtime`;
  let borrowed;
  try {
    borrowed = await sources.connections.borrow(host.id);
  } catch (error) {
    gaps.push(`${host.name}: its runtime could not be reached (${describe(error)}): no state, process list or logs`);
    return;
  }
  try {
    const { connection, target } = borrowed;
    const operator = options.operator;
    const tokenOf = async (): Promise<string | null> => (operator && sources.tokenFor ? sources.tokenFor(target, operator) : null);
    const info = await connection.getInfo();
    versions[`runtime@${host.name}`] = info.runtimeVersion;
    files.push({ path: `${dir}/info.json`, text: json(info) });
    const processes = describeProcesses(await connection.listProcesses(), new Map(), sources.now());
    files.push({ path: `${dir}/processes.json`, text: json(processes) });
    for (const instance of processes.flatMap((p) => p.instances)) {
      try {
        const log = await lastLog(connection, instance.instance, options.logBytesPerProcess, await tokenOf());
        files.push({ path: `${dir}/logs/${instance.instance}.log`, text: log.text });
        if (log.byLines) {
          gaps.push(
            `${host.name}: the log of ${instance.instance} holds the last ${RUNTIME_TAIL_LINES} lines (${Buffer.byteLength(log.text)} bytes), ` +
              `less than the ${options.logBytesPerProcess} bytes asked: its runtime (${info.runtimeVersion}) answers by lines, as one older than TailLogs' max_bytes does, or the log holds no more`,
          );
        }
      } catch (error) {
        gaps.push(`${host.name}: the log of ${instance.instance} could not be read (${describe(error)})`);
      }
    }
  } catch (error) {
    gaps.push(`${host.name}: the runtime stopped answering (${describe(error)})`);
  } finally {
    await borrowed.release().catch(() => undefined);
  }
}

/**
 * An instance's last lines, as `time stream text`, cut to the last `maxBytes` at a line's start
 * (the runtime counts its file's bytes; a line it wrote without a stamp gains one here).
 * `byLines`: the answer is exactly the lines asked and under the bytes, as an older runtime,
 * which ignores max_bytes, answers a log longer than that.
 */
async function lastLog(
  connection: RuntimeConnection,
  instance: string,
  maxBytes: number,
  token: string | null,
): Promise<{ text: string; byLines: boolean }> {
  const lines: string[] = [];
  for await (const line of connection.tailLogs({ instance, lines: RUNTIME_TAIL_LINES, follow: false, maxBytes }, token)) {
    const stream = line.stream === 'LOG_STREAM_STDERR' ? 'err' : 'out';
    lines.push(`${new Date(Number(line.atMs)).toISOString()} ${stream} ${line.text}\n`);
  }
  let bytes = 0;
  let first = lines.length;
  while (first > 0 && bytes + Buffer.byteLength(lines[first - 1]!) <= maxBytes) bytes += Buffer.byteLength(lines[--first]!);
  return { text: lines.slice(first).join(''), byLines: first === 0 && lines.length === RUNTIME_TAIL_LINES };
}

/** The control center's log lines that name the install or one of its hosts, from the oldest kept file on, cut to the last MAX_APP_LOG_BYTES. */
function appLogLines(sources: SupportSources, names: readonly string[]): string {
  const kept: string[] = [];
  for (const file of sources.appLogFiles()) {
    let text;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) if (line !== '' && names.some((name) => line.includes(name))) kept.push(`${line}\n`);
  }
  let bytes = 0;
  let first = kept.length;
  while (first > 0 && bytes + kept[first - 1]!.length <= MAX_APP_LOG_BYTES) bytes += kept[--first]!.length;
  return kept.slice(first).join('');
}

/** The log file and its rotated copies (`control-center.N.log`), oldest first. */
export function appLogFilesOf(logFile: string): string[] {
  const dir = path.dirname(logFile);
  const ext = path.extname(logFile);
  const base = path.basename(logFile, ext);
  const rotated = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .map((name) => new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)${ext.replace('.', '\\.')}$`).exec(name))
        .filter((m): m is RegExpExecArray => m !== null)
        .sort((a, b) => Number(b[1]) - Number(a[1]))
        .map((m) => path.join(dir, m[0]))
    : [];
  return [...rotated, logFile];
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function installNotFound(name: string): ApiError {
  return new ApiError('NOT_FOUND', `There is no install named ${name}.`, 'Pick an install from the Installs page.', {
    cliRemedy: 'List the installs with `sutazai installs list`.',
  });
}
