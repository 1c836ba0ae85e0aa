import { z } from 'zod';
import type { SupportFinding } from '../../../contract';
import type { SupportArchive } from './support-archive';

/**
 * Offline analyzers: each reads a support bundle's files (never the site) and reports what
 * it finds, in one sentence naming host and process, with its evidence and a remedy. A
 * file a bundle lacks or cannot parse is skipped by the analyzers that read it (the bundle's
 * gaps are reported on their own).
 */
type Analyzer = (bundle: HostFiles[]) => SupportFinding[];

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

/** One host's files of the bundle, parsed where they are JSON. */
interface HostFiles {
  host: string;
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

const ANALYZERS: readonly Analyzer[] = [crashLoops, fullFilesystems, notRunning, firingAlerts, failedPreflight];

const SEVERITY_ORDER = { critical: 0, warning: 1, info: 2 } as const;

/** Every analyzer's findings, the most severe first; then what the bundle says it could not collect. */
export function analyzeSupportBundle(bundle: SupportArchive): SupportFinding[] {
  const hosts = hostFilesOf(bundle);
  const findings = ANALYZERS.flatMap((analyze) => analyze(hosts));
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

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}
