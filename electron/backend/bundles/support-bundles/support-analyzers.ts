import { z } from 'zod';
import type { SupportFinding } from '../../../contract';
import type { SupportArchive } from './support-archive';

/**
 * Offline analyzers: each reads a support bundle's files (never the site) and reports what
 * it finds, in one sentence naming host and process, with its evidence and a remedy. A
 * file a bundle lacks or cannot parse is skipped by the analyzers that read it (the bundle's
 * gaps are reported on their own).
 */
type Analyzer = (bundle: HostFiles[], collectedAtMs: number) => SupportFinding[];

/**
 * A list read from a bundle: its well-formed items only. A bundle is anyone's file (its
 * digests only say it is whole), so an item of another shape is passed over, never trusted.
 */
const listOf = <T extends z.ZodType>(item: T) =>
  z
    .array(z.unknown())
    .catch([])
    .transform((items) =>
      items.flatMap((raw) => {
        const parsed = item.safeParse(raw);
        return parsed.success ? [parsed.data as z.output<T>] : [];
      }),
    );
const text = z.string().catch('');
const count = z.number().finite().catch(0);

const EventsSchema = listOf(
  z.object({
    kind: z.string(),
    instance: z.string().nullable().catch(null),
    process: z.string().nullable().catch(null),
    atMs: count,
    lastLines: listOf(z.string()),
    message: text,
  }),
);
const ProcessesSchema = listOf(
  z.object({
    name: text,
    instances: listOf(
      z.object({
        instance: z.string(),
        state: z.string(),
        restarts: count,
        rssBytes: count,
        lastError: z.object({ message: z.string() }).nullable().catch(null),
      }),
    ),
  }),
);
const FactsSchema = z
  .object({
    filesystems: listOf(
      z.object({ mount: z.string(), device: text, sizeBytes: z.number().finite(), usedBytes: z.number().finite(), availableBytes: count }),
    ).nullable(),
  })
  .nullable()
  .catch(null);
const AlertsSchema = listOf(z.object({ rule: z.string(), state: z.string(), severity: text, summary: text }));
const PreflightSchema = listOf(
  z.object({
    profile: text,
    outcome: text,
    checks: listOf(z.object({ title: z.string(), outcome: z.string(), message: text, remedy: text })),
  }),
);

/** A time the summaries print as a date: within what a Date holds (±8.64e15 ms), or the item is passed over. */
const dateMs = z.number().min(-8.64e15).max(8.64e15);
const MemorySchema = z
  .object({ points: listOf(z.tuple([dateMs, z.number().finite(), z.number().finite(), z.number().finite()])) })
  .nullable()
  .catch(null);
const CertificatesSchema = listOf(z.object({ installName: text, what: z.string(), notAfterMs: dateMs }));

/** One host's files of the bundle, parsed where they are JSON. */
interface HostFiles {
  host: string;
  memory: z.output<typeof MemorySchema>;
  certificates: z.output<typeof CertificatesSchema>;
  events: z.output<typeof EventsSchema>;
  processes: z.output<typeof ProcessesSchema>;
  facts: z.output<typeof FactsSchema>;
  alerts: z.output<typeof AlertsSchema>;
  preflight: z.output<typeof PreflightSchema>;
  logOf(instance: string): string[] | null;
}

/** A filesystem at least this full is reported (the alert rules' critical level). */
export const FULL_FILESYSTEM_PERCENT = 90;
const LAST_LINES = 5;

const crashLoops: Analyzer = (hosts) =>
  hosts.flatMap(({ host, events, processes, logOf }) => {
    /** Crash-loops entered, per instance. */
    const loops = new Map<string, number>();
    // The newest lines any event of an instance carried (an exit's, a state change's): a crash-loop event may carry none.
    const newestLines = new Map<string, string[]>();
    // Events are newest first: the first one met per instance is its last.
    for (const event of events) {
      const name = event.instance ?? event.process ?? 'a process';
      if (event.lastLines.length > 0 && !newestLines.has(name)) newestLines.set(name, event.lastLines);
      if (event.kind === 'process.crash-loop') loops.set(name, (loops.get(name) ?? 0) + 1);
    }
    // In crash-loop now without a recorded event (events pruned, or collected from a host without links).
    for (const instance of processes.flatMap((p) => p.instances))
      if (instance.state === 'crash-loop' && !loops.has(instance.instance)) loops.set(instance.instance, 1);
    return [...loops].map(([instance, count]): SupportFinding => {
      const lines = newestLines.get(instance) ?? logOf(instance) ?? [];
      const tail = lines.slice(-LAST_LINES);
      return {
        analyzer: 'crash-loop',
        severity: 'critical',
        summary: `${instance} on ${host} entered crash-loop ${count} ${count === 1 ? 'time' : 'times'}${
          tail.length > 0 ? `; its last lines say: ${tail.at(-1)}` : ''
        }`,
        details: tail,
        remedy: `Read ${instance}'s last lines for the cause (a wrong setting, a missing file, a port in use, too little memory), correct it, then restart ${instance}'s process; the runtime keeps retrying on a long interval meanwhile.`,
      };
    });
  });

const fullFilesystems: Analyzer = (hosts) =>
  hosts.flatMap(({ host, facts }) =>
    (facts?.filesystems ?? [])
      .filter((fs) => fs.sizeBytes > 0 && (fs.usedBytes / fs.sizeBytes) * 100 >= FULL_FILESYSTEM_PERCENT)
      .map((fs): SupportFinding => {
        const percent = Math.round((fs.usedBytes / fs.sizeBytes) * 100);
        return {
          analyzer: 'full-filesystem',
          severity: percent >= 98 ? 'critical' : 'warning',
          summary: `${host}'s filesystem ${fs.mount} was ${percent}% full (${gib(fs.availableBytes)} free of ${gib(fs.sizeBytes)})`,
          details: [`device ${fs.device}, used ${gib(fs.usedBytes)}`],
          remedy: `Free space on ${fs.mount} (old releases, logs, core dumps) or grow it; a full filesystem stops logs, upgrades and the store.`,
        };
      }),
  );

const notRunning: Analyzer = (hosts) =>
  hosts.flatMap(({ host, processes, logOf }) =>
    processes
      .flatMap((p) => p.instances)
      .filter((i) => i.state === 'exited' || i.state === 'backoff')
      .map((i): SupportFinding => ({
        analyzer: 'not-running',
        severity: 'warning',
        summary: `${i.instance} on ${host} was ${i.state} after ${i.restarts} restarts${i.lastError ? `: ${i.lastError.message}` : ''}`,
        details: (logOf(i.instance) ?? []).slice(-LAST_LINES),
        remedy: `Read ${i.instance}'s last lines for why it stopped, correct the cause, then start its process again.`,
      })),
  );

const firingAlerts: Analyzer = (hosts) =>
  hosts.flatMap(({ host, alerts }) =>
    alerts
      .filter((a) => a.state === 'firing')
      .map((a): SupportFinding => ({
        analyzer: 'firing-alert',
        severity: a.severity === 'critical' ? 'critical' : 'warning',
        summary: `Alert ${a.rule} was firing on ${host}: ${a.summary}`,
        details: [],
        remedy: "Follow the alert rule's own remedy; the other findings often name its cause.",
      })),
  );

const failedPreflight: Analyzer = (hosts) =>
  hosts.flatMap(({ host, preflight }) => {
    const latest = preflight[0];
    if (!latest) return [];
    return latest.checks
      .filter((c) => c.outcome === 'fail')
      .map((c): SupportFinding => ({
        analyzer: 'preflight',
        severity: 'warning',
        summary: `${host} failed the ${latest.profile} preflight check "${c.title}": ${c.message}`,
        details: [],
        remedy: c.remedy,
      }));
  });

/** Memory this full (the mean of a reading) is pressure: the kernel reclaims hard and its OOM killer is near. */
export const MEMORY_PRESSURE_PERCENT = 90;

const memoryPressure: Analyzer = (hosts) =>
  hosts.flatMap(({ host, memory, processes }) => {
    const points = memory?.points ?? [];
    const over = points.filter(([, mean]) => mean >= MEMORY_PRESSURE_PERCENT);
    if (over.length === 0) return [];
    // Not Math.max(...): a bundle may hold more readings than a call may have arguments.
    const peak = over.reduce((most, [, , , max]) => Math.max(most, max), -Infinity);
    const [lastAt, lastMean] = points.reduce((newest, p) => (p[0] > newest[0] ? p : newest));
    const overMinutes = Math.round(points.length > 1 ? (over.length / points.length) * ((points.at(-1)![0] - points[0]![0]) / 60_000) : 0);
    return [
      {
        analyzer: 'memory-pressure',
        severity: lastMean >= MEMORY_PRESSURE_PERCENT ? 'critical' : 'warning',
        summary: `${host}'s memory was over ${MEMORY_PRESSURE_PERCENT}% used in ${over.length} of ${points.length} readings (peak ${percent(peak)}, ${percent(lastMean)} at the last, ${new Date(lastAt).toISOString()})`,
        details: [
          `about ${overMinutes} min over ${MEMORY_PRESSURE_PERCENT}% in the bundle's window`,
          ...largestProcesses(processes).map((p) => `${p.instance}: ${p.state}`),
        ],
        remedy: `Find what holds the memory (the Processes page sorted by memory, or the host's own top), lower that process's replicas or its memory use, or give ${host} more memory; near 100% the kernel's OOM killer ends processes, which then restart and loop.`,
      },
    ];
  });

/** A certificate this close to its end is reported (the default alert rule's 30 days). */
export const CERTIFICATE_WARN_DAYS = 30;
const DAY_MS = 24 * 3600 * 1000;

const certificateExpiry: Analyzer = (hosts, collectedAtMs) => {
  const seen = new Set<string>();
  return hosts.flatMap(({ host, certificates }) =>
    certificates
      .filter((c) => c.notAfterMs - collectedAtMs < CERTIFICATE_WARN_DAYS * DAY_MS)
      .filter((c) => {
        // An install's CA is listed under each of its hosts: once is enough.
        const key = c.what === 'install CA' ? `${c.installName}\u0000${c.what}` : `${host}\u0000${c.what}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      })
      .map((c): SupportFinding => {
        const days = Math.floor((c.notAfterMs - collectedAtMs) / DAY_MS);
        const ca = c.what === 'install CA';
        const whose = ca ? `the install ${c.installName}'s CA` : `${host}'s ${c.what}`;
        return {
          analyzer: 'certificate-expiry',
          severity: days < 7 ? 'critical' : 'warning',
          summary:
            days < 0
              ? `${whose} expired ${-days} ${-days === 1 ? 'day' : 'days'} before the bundle was collected (${new Date(c.notAfterMs).toISOString()})`
              : `${whose} expires in ${days} ${days === 1 ? 'day' : 'days'} (${new Date(c.notAfterMs).toISOString()})`,
          details: [],
          remedy: ca
            ? `Renew the install's CA before it ends (apply the install again with a new CA), then apply it to every host: every runtime and client certificate it signed stops being trusted when it expires.`
            : `Apply the install to ${host} again: the apply issues the runtime a new certificate; once it expires, the control center and operators can no longer connect to ${host}'s runtime.`,
        };
      }),
  );
};

/** A host whose link went down this often, or stayed down this long, in the bundle's events is reported. */
export const LINK_DOWN_OFTEN = 3;
export const LINK_DOWN_LONG_MS = 10 * 60_000;

const linkHistory: Analyzer = (hosts, collectedAtMs) =>
  hosts.flatMap(({ host, events }) => {
    // Events are newest first: walked oldest first, each down lasts until the next up (or the collection).
    const changes = events.filter((e) => e.kind === 'link.down' || e.kind === 'link.up').sort((a, b) => a.atMs - b.atMs);
    let downs = 0;
    let longestMs = 0;
    let totalMs = 0;
    let downSince: number | null = null;
    let lastMessage = '';
    for (const change of changes) {
      if (change.kind === 'link.down') {
        if (downSince === null) {
          downs++;
          downSince = change.atMs;
        }
        lastMessage = change.message;
      } else if (downSince !== null) {
        longestMs = Math.max(longestMs, change.atMs - downSince);
        totalMs += change.atMs - downSince;
        downSince = null;
      }
    }
    const stillDown = downSince !== null;
    if (downSince !== null) {
      longestMs = Math.max(longestMs, collectedAtMs - downSince);
      totalMs += Math.max(0, collectedAtMs - downSince);
    }
    if (downs < LINK_DOWN_OFTEN && longestMs < LINK_DOWN_LONG_MS) return [];
    return [
      {
        analyzer: 'link-history',
        severity: stillDown || longestMs >= LINK_DOWN_LONG_MS ? 'critical' : 'warning',
        summary: `${host}'s link went down ${downs} ${downs === 1 ? 'time' : 'times'}, down ${minutes(totalMs)} in all, the longest ${minutes(longestMs)}${stillDown ? '; it was still down when the bundle was collected' : ''}`,
        details: lastMessage !== '' ? [`last said: ${lastMessage}`] : [],
        remedy: `Check the network path to ${host} (cabling, a switch, a firewall closing idle connections) and that its runtime stays up (its own log, the host's memory); the runtime buffers metrics while the link is down, but actions and live views wait for it.`,
      },
    ];
  });

const ANALYZERS: readonly Analyzer[] = [
  crashLoops,
  fullFilesystems,
  memoryPressure,
  notRunning,
  firingAlerts,
  failedPreflight,
  certificateExpiry,
  linkHistory,
];

const SEVERITY_ORDER = { critical: 0, warning: 1, info: 2 } as const;

/** Every analyzer's findings, the most severe first; then what the bundle says it could not collect. */
export function analyzeSupportBundle(bundle: SupportArchive): SupportFinding[] {
  const hosts = hostFilesOf(bundle);
  const findings = ANALYZERS.flatMap((analyze) => analyze(hosts, bundle.manifest.collectedAtMs));
  findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
  for (const gap of bundle.manifest.gaps)
    findings.push({
      analyzer: 'gap',
      severity: 'info',
      summary: `Not in this bundle: ${gap}`,
      details: [],
      remedy: 'Ask the site for a new bundle once the cause is mended (a host back online, a log readable).',
    });
  return findings;
}

function hostFilesOf(bundle: SupportArchive): HostFiles[] {
  const hosts = new Set<string>();
  for (const path of bundle.files.keys()) {
    const match = /^hosts\/([^/]+)\//.exec(path);
    if (match) hosts.add(match[1]!);
  }
  const read = <T extends z.ZodType>(path: string, schema: T): z.output<T> => {
    const text = bundle.files.get(path);
    let raw: unknown = null;
    try {
      if (text !== undefined) raw = JSON.parse(text);
    } catch {
      // Not JSON: read as missing.
    }
    return schema.parse(raw) as z.output<T>;
  };
  return [...hosts].sort().map((host) => {
    const dir = `hosts/${host}`;
    return {
      host,
      memory: read(`${dir}/memory.json`, MemorySchema),
      certificates: read(`${dir}/certificates.json`, CertificatesSchema),
      events: read(`${dir}/events.json`, EventsSchema),
      processes: read(`${dir}/runtime/processes.json`, ProcessesSchema),
      facts: read(`${dir}/facts.json`, FactsSchema),
      alerts: read(`${dir}/alerts.json`, AlertsSchema),
      preflight: read(`${dir}/preflight.json`, PreflightSchema),
      logOf: (instance: string) => {
        const text = bundle.files.get(`${dir}/runtime/logs/${instance}.log`);
        return text === undefined ? null : text.split('\n').filter((line) => line !== '');
      },
    };
  });
}

/** The instances that held the most memory when the bundle was collected, largest first. */
function largestProcesses(processes: HostFiles['processes']): Array<{ instance: string; state: string }> {
  return processes
    .flatMap((p) => p.instances)
    .filter((i) => i.rssBytes > 0)
    .sort((a, b) => b.rssBytes - a.rssBytes)
    .slice(0, LAST_LINES)
    .map((i) => ({ instance: i.instance, state: `${mib(i.rssBytes)} resident` }));
}

function mib(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))} MiB`;
}

function percent(value: number): string {
  return `${Math.round(value)}%`;
}

function minutes(ms: number): string {
  return ms >= 3600_000 ? `${(ms / 3600_000).toFixed(1)} h` : `${Math.max(1, Math.round(ms / 60_000))} min`;
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}
