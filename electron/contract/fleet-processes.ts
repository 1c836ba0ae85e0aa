import { z } from 'zod';
import { ApiErrorBodySchema } from './errors';
import { HostIdSchema } from './hosts';

/**
 * Steering the processes of an installed host through its runtime (issue 12, items 5 to
 * 7): the live process table, start, stop, restart and scale, and the logs of an
 * instance (the last lines, since a time, searched, or followed). Every call goes through
 * the host's link (one SSH session, one tunnel, one gRPC channel); every action is
 * recorded as an event with who asked for it.
 */

/** A process of the runtime's manifest: `core`, `agent`, `agent-gpu`. */
export const FleetProcessNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a process name of the manifest, e.g. agent (letters, digits, ".", "_" or "-")');

/** One instance of a process: `<process>-<n>` (agent-1), or the process's own name when it runs one (core). */
export const FleetInstanceNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,70}$/, 'an instance name, e.g. agent-1 or core');

/** The runtime's states (supervisord's names), plus `unknown` for one this app does not know yet. */
export const FleetProcessStateSchema = z.enum(['stopped', 'starting', 'running', 'backoff', 'stopping', 'exited', 'crash-loop', 'unknown']);
export type FleetProcessState = z.infer<typeof FleetProcessStateSchema>;

/**
 * Whether the instance does what it should: `healthy` running (past its health check,
 * where the manifest has one), `unhealthy` meant to run but not running (starting,
 * backing off, crash-looping, exited), `stopped` stopped by an operator or stopping.
 */
export const FleetInstanceHealthSchema = z.enum(['healthy', 'unhealthy', 'stopped']);

export const FleetInstanceSchema = z.object({
  instance: z.string(),
  /** 1-based replica number (the n of `<process>-<n>`; 1 for an instance named as its process). */
  replica: z.number().int().positive(),
  state: FleetProcessStateSchema,
  health: FleetInstanceHealthSchema,
  /** null when not running. */
  pid: z.number().int().positive().nullable(),
  /** When it last started, ms; null when never started. */
  startedAtMs: z.number().int().nullable(),
  /** Running for, ms (the runtime's figure, else from startedAtMs); null when not running. */
  uptimeMs: z.number().int().nonnegative().nullable(),
  restarts: z.number().int().nonnegative(),
  /** Percent of one core over the runtime's last sample (top's convention); null when the sample is not at hand. */
  cpuPercent: z.number().nonnegative().nullable(),
  rssBytes: z.number().int().nonnegative().nullable(),
  exitCode: z.number().int().nullable(),
  /** The runtime's last failure for this instance (its own code, message and remedy). */
  lastError: z.object({ code: z.string(), message: z.string(), remedy: z.string() }).nullable(),
});
export type FleetInstance = z.infer<typeof FleetInstanceSchema>;

export const FleetProcessSchema = z.object({
  name: z.string(),
  replicas: z.number().int().nonnegative(),
  instances: z.array(FleetInstanceSchema),
});
export type FleetProcess = z.infer<typeof FleetProcessSchema>;

export const FleetProcessTableSchema = z.object({
  hostId: HostIdSchema,
  hostName: z.string(),
  installName: z.string(),
  /** When the runtime answered, ms (this machine's clock). */
  atMs: z.number().int(),
  processes: z.array(FleetProcessSchema),
});
export type FleetProcessTable = z.infer<typeof FleetProcessTableSchema>;

/**
 * Replicas a process may be scaled to: what the install configuration allows for an
 * agent host (agents.replicas_per_host, 0 to 64). Anything else is refused with
 * FLEET_SCALE_OUT_OF_RANGE before the runtime is asked.
 */
export const MIN_REPLICAS = 0;
export const MAX_REPLICAS = 64;

export const FleetActionResultSchema = z.object({
  hostId: HostIdSchema,
  process: z.string(),
  action: z.enum(['start', 'stop', 'restart', 'scale']),
  /** The process as the runtime reports it right after the action. */
  after: FleetProcessSchema.nullable(),
});
export type FleetActionResult = z.infer<typeof FleetActionResultSchema>;

/** Text or a regular expression to keep only the matching lines. */
export const LogSearchSchema = z
  .object({
    pattern: z.string().min(1).max(1000),
    /**
     * A regular expression (RE2's syntax: no back-references or look-around), matched in
     * time linear in the line's length, so no pattern can stall the backend; false: the
     * text as it is.
     */
    regex: z.boolean().default(false),
    ignoreCase: z.boolean().default(false),
  })
  .strict();
export type LogSearch = z.output<typeof LogSearchSchema>;

/** The most characters of one line an answer carries; the rest is cut and counted (a 1 MB line stays one line). */
export const MAX_LOG_LINE_CHARS = 16 * 1024;
/** The most lines one answer holds (the runtime keeps at most this many within reach). */
export const MAX_LOG_LINES = 10_000;

/**
 * One line of an instance's output. `text` is as the program wrote it (invalid UTF-8 as
 * U+FFFD): it may hold control characters and escape sequences, which every reader must
 * show as visible escapes (the CLI's terminal output and the pages do).
 */
export const FleetLogLineSchema = z.object({
  atMs: z.number().int(),
  instance: z.string(),
  stream: z.enum(['stdout', 'stderr', 'unknown']),
  text: z.string(),
  /** Characters cut from the end of a line longer than MAX_LOG_LINE_CHARS; 0 when whole. */
  cutChars: z.number().int().nonnegative(),
});
export type FleetLogLine = z.infer<typeof FleetLogLineSchema>;

export const FleetLogsParamsSchema = z
  .object({
    hostId: HostIdSchema,
    instance: FleetInstanceNameSchema,
    /** The newest this many lines (that match, with `search`). */
    lines: z.number().int().min(1).max(MAX_LOG_LINES).default(200),
    /** Only lines written at or after this time, ms. */
    sinceMs: z.number().int().nonnegative().optional(),
    search: LogSearchSchema.optional(),
  })
  .strict();

export const FleetLogsResultSchema = z.object({
  hostId: HostIdSchema,
  instance: z.string(),
  /** Oldest first. */
  lines: z.array(FleetLogLineSchema),
  /** How many lines were read from the runtime to find them. */
  scanned: z.number().int().nonnegative(),
  /** Matching lines left out, oldest first, so that the answer fits one message. */
  omitted: z.number().int().nonnegative(),
  /**
   * False when older lines that might match were out of reach: the runtime sent the most
   * it sends (MAX_LOG_LINES) and the oldest of them is still newer than `sinceMs` (or
   * there was a search, or no `sinceMs`, and more lines were wanted).
   */
  complete: z.boolean(),
});
export type FleetLogsResult = z.infer<typeof FleetLogsResultSchema>;

export const FleetLogFollowParamsSchema = z
  .object({
    hostId: HostIdSchema,
    instance: FleetInstanceNameSchema,
    /** The last this many lines first (before the search), then new ones as they are written. */
    lines: z.number().int().min(0).max(MAX_LOG_LINES).default(0),
    sinceMs: z.number().int().nonnegative().optional(),
    search: LogSearchSchema.optional(),
  })
  .strict();

/** What a followed log sends: lines as they come, then once `ended` (with why, when it failed); no line comes after. */
export const FleetLogFollowPayloadSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('lines'), lines: z.array(FleetLogLineSchema) }),
  z.object({ kind: z.literal('ended'), error: ApiErrorBodySchema.nullable() }),
]);
export type FleetLogFollowPayload = z.infer<typeof FleetLogFollowPayloadSchema>;

const HostProcessSchema = z.object({ hostId: HostIdSchema, process: FleetProcessNameSchema }).strict();

export const fleetProcessMethods = {
  /** The host's live process table, from its runtime through the host's link. */
  'fleet.processes': {
    params: z.object({ hostId: HostIdSchema }).strict(),
    result: FleetProcessTableSchema,
  },
  /** Starts every instance of a process (the runtime keeps it running from then on). Recorded as an event with who asked. */
  'fleet.start': { params: HostProcessSchema, result: FleetActionResultSchema },
  /** Stops every instance of a process (it stays stopped until started). Recorded as an event with who asked. */
  'fleet.stop': { params: HostProcessSchema, result: FleetActionResultSchema },
  /** Restarts every instance of a process, one after another. Recorded as an event with who asked. */
  'fleet.restart': { params: HostProcessSchema, result: FleetActionResultSchema },
  /**
   * Sets how many instances of a process run, through the runtime (no restart of the
   * others), and records it in the install's definition, so that applying the install
   * again keeps it. MIN_REPLICAS..MAX_REPLICAS, else FLEET_SCALE_OUT_OF_RANGE.
   */
  'fleet.scale': {
    params: HostProcessSchema.extend({ replicas: z.number().int() }).strict(),
    result: FleetActionResultSchema,
  },
  /** The last lines of an instance's output, since a time, matching a search. */
  'fleet.logs': {
    params: FleetLogsParamsSchema,
    result: FleetLogsResultSchema,
  },
} as const;

export const fleetProcessEvents = {
  /** Follows an instance's output from when the subscription starts (after its last `lines`) until it is stopped. */
  'fleet.logFollow': {
    params: FleetLogFollowParamsSchema,
    payload: FleetLogFollowPayloadSchema,
  },
} as const;
