import { z } from 'zod';
import { ApiErrorBodySchema, ErrorCodeSchema, type ErrorCode } from './errors';
import { InstallNameSchema } from './installs';
import { HostNameSchema } from './inventory';
import { ACTIONS } from './method-actions';

/**
 * The audit log (issue 14, item 6): every call that changes state, appended with who made
 * it, from where, what it named and how it ended, to a hash-chained, append-only log;
 * beside it, every host-key decision and refusal. Read here, verified here; written only by
 * the backend as calls end.
 */

export const AuditActionSchema = z.enum(ACTIONS);

/**
 * Audited actions taken outside the contract, on the machine itself (no pipe, no operator signed
 * in): the break-glass reset of an admin (`sutazai operators reset-admin`), and the web server
 * certificate issued from an install's CA at each `npm run web -- --tls-from-install` start.
 * Named here with their action, so the log's vocabulary is one list: the writers take the action
 * from here, the Audit page labels them in words and its action filter finds them, as any method.
 */
export const LOCAL_AUDIT_METHODS = {
  'operators.resetAdmin': { action: 'manage-operators', words: 'operators · break-glass reset of an admin, on the machine' },
  'web.certificateIssue': { action: 'vault', words: 'web mode · server certificate issued at start, on the machine' },
} as const satisfies Record<string, { action: (typeof ACTIONS)[number]; words: string }>;
export type LocalAuditMethod = keyof typeof LOCAL_AUDIT_METHODS;

/** Whether an entry's method is one of LOCAL_AUDIT_METHODS (not a contract method). */
export function isLocalAuditMethod(method: string): method is LocalAuditMethod {
  return Object.hasOwn(LOCAL_AUDIT_METHODS, method);
}

/** A SHA-256 as 64 lower-case hex digits. */
export const AuditHashSchema = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 as 64 lower-case hex digits');

export const AuditEntrySchema = z.object({
  /** 1, 2, 3, ... in the order appended; a gap is a removed entry. */
  seq: z.number().int().positive(),
  /** When the call ended (its outcome known), ms. */
  atMs: z.number().int(),
  /** The operator signed in on the pipe; null while the control center knows no operators. */
  operator: z.string().nullable(),
  /** The pipe's identity: `desktop`, `web:<session>`, `cli:<OS user>`. */
  actor: z.string(),
  /** Where the pipe comes from: `ws:127.0.0.1:5000`, `cli`, ... */
  peer: z.string(),
  action: AuditActionSchema,
  /** The contract method called. */
  method: z.string(),
  /** The hosts, install, process, job or file the call named (never a secret); null when it named none. */
  target: z.string().nullable(),
  /** `ok`, or the error code the call ended with. */
  outcome: z.union([z.literal('ok'), ErrorCodeSchema]),
  prevHash: AuditHashSchema,
  hash: AuditHashSchema,
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

export const MAX_AUDIT_PAGE = 200;

/**
 * The codes of a call refused for who makes it, before anything was done: not signed in,
 * a role or an access policy that does not allow it, a fresh two-factor code needed, too
 * many failed sign-ins, a method this pipe may not call. The `refused` filter selects them.
 */
export const REFUSAL_CODES: readonly ErrorCode[] = [
  'SIGN_IN_REQUIRED',
  'ACCESS_DENIED',
  'ACCESS_POLICY_DENIED',
  'ACCESS_POLICY_INVALID',
  'MFA_STEP_UP_REQUIRED',
  'SIGN_IN_THROTTLED',
  'METHOD_NOT_ON_THIS_PIPE',
];

export const AuditListParamsSchema = z
  .object({
    /** Entries whose operator or actor contains this (`alice`, `cli:`, `web:`). */
    who: z.string().min(1).max(128).optional(),
    action: AuditActionSchema.optional(),
    /** Entries whose target contains this (`host db-2`, `install prod`, `db-2`). */
    target: z.string().min(1).max(256).optional(),
    /** `ok`, `error` (any error), `refused` (any of REFUSAL_CODES), or one error code. */
    outcome: z.union([z.enum(['ok', 'error', 'refused']), ErrorCodeSchema]).optional(),
    /** Entries at or after this time, ms. */
    fromMs: z.number().int().optional(),
    /** Entries before this time, ms. */
    toMs: z.number().int().optional(),
    /** `newest` first (the page's order) or `oldest` first (an export's). */
    order: z.enum(['newest', 'oldest']).default('newest'),
    /** The page after this entry (from the previous page's `next`). */
    after: z.number().int().positive().optional(),
    limit: z.number().int().min(1).max(MAX_AUDIT_PAGE).default(50),
  })
  .strict();
export type AuditListParams = z.output<typeof AuditListParamsSchema>;

export const AuditPageSchema = z.object({
  entries: z.array(AuditEntrySchema),
  /** The `after` of the next page; null when this one is the last. */
  next: z.number().int().positive().nullable(),
});
export type AuditPage = z.infer<typeof AuditPageSchema>;

/** How the chain broke at its first broken entry: changed in place, missing, or out of its place. */
export const AuditBreakKindSchema = z.enum(['edited', 'removed', 'reordered']);
export type AuditBreakKind = z.infer<typeof AuditBreakKindSchema>;

/** An entry an auditor wrote down earlier (its seq and hash): the log must still hold it, unchanged. */
export const AuditAnchorSchema = z.object({ seq: z.number().int().positive(), hash: AuditHashSchema }).strict();
export type AuditAnchor = z.infer<typeof AuditAnchorSchema>;

export const AuditVerificationSchema = z.object({
  /** How many entries the log holds. */
  entries: z.number().int().nonnegative(),
  /** The newest entry's seq and hash: write it down to check later that nothing after it was cut off (an anchor). */
  head: z.object({ seq: z.number().int().positive(), hash: AuditHashSchema }).nullable(),
  /** The first place the chain breaks; null when every entry is as appended. */
  broken: z
    .object({
      /** The entry where the break shows (for newest entries removed: the first one missing). */
      seq: z.number().int().positive(),
      kind: AuditBreakKindSchema,
      message: z.string(),
    })
    .nullable(),
});
export type AuditVerification = z.infer<typeof AuditVerificationSchema>;

/**
 * The most of a runtime's own audit log the control center reads over SSH; a larger one is refused
 * (AUDIT_HOST_LOG_TOO_LARGE). Below the SSH session's 32 MiB cap on a command's output, so that code, not a failed session, says it.
 */
export const MAX_HOST_AUDIT_LOG_BYTES = 16 * 1024 * 1024;

/**
 * Where a runtime's kept chain starts when its oldest segments were dropped by its
 * `audit.keep_files` cap (agents-runtime/src/audit/audit-segments.ts): the drop is itself an
 * entry of the chain, so a chain starting later than entry 1 without one is a removal instead.
 */
export const KeptChainStartSchema = z.object({
  firstSeq: z.number().int().positive(),
  prevHash: AuditHashSchema,
  /** The entry that recorded the drop. */
  recordedAt: z.number().int().positive(),
  /** The anchor given was among the dropped entries: it could not be checked. */
  anchorDropped: z.boolean(),
  message: z.string(),
});

/**
 * The newest entry of a host's runtime log the control center last found intact (an implicit
 * anchor, kept per host with the runtime it belonged to), and how the log read now stands to it:
 * - `held`: still there, same seq and hash; `dropped`: dropped since by the keep cap, as a drop entry records;
 * - `missing`: cut off the end; `rewritten`: its seq holds another entry now (cut off, then others appended);
 * - `replaced`: another runtime is installed there and its log does not hold it;
 * - `unchecked`: the chain itself is broken, which is said instead.
 */
export const RememberedHeadSchema = z.object({
  seq: z.number().int().positive(),
  hash: AuditHashSchema,
  /** When it was found intact (or accepted), ms, and by whom (the operator and pipe, or the pipe). */
  atMs: z.number().int(),
  by: z.string(),
  /** The runtime it belonged to: its install's name and the state directory of its log. */
  install: z.string(),
  stateDir: z.string(),
  /** Set when an admin accepted a reset to it (audit.acceptHostReset) rather than a verify finding it. */
  accepted: z.object({ atMs: z.number().int(), by: z.string() }).nullable(),
  standing: z.enum(['held', 'dropped', 'dropped-unseen', 'missing', 'rewritten', 'replaced', 'unchecked']),
});
export type RememberedHead = z.infer<typeof RememberedHeadSchema>;

/** One host's runtime audit log (`<state_dir>/audit.log` and its sealed segments), read over SSH and verified like the control center's. */
export const HostAuditVerificationSchema = AuditVerificationSchema.extend({
  host: z.string(),
  /** Where the live segment is on the host (the sealed ones beside it: `audit.log.<first seq>`). */
  file: z.string(),
  /** Of every segment read. */
  bytes: z.number().int().nonnegative(),
  /** How many segments were read, the live one included. */
  segments: z.number().int().nonnegative().default(1),
  /** Null while the chain starts at entry 1. */
  kept: KeptChainStartSchema.nullable().default(null),
  /** The head remembered from the last intact verify, checked as an anchor; null at the first verify of this host. */
  remembered: RememberedHeadSchema.nullable().default(null),
  /** Why the log fails its remembered head (AUDIT_HOST_TRUNCATED, AUDIT_HOST_UNSEEN_DROPPED, AUDIT_HOST_RUNTIME_REPLACED), with what to do; `broken` says where. */
  rememberedError: ApiErrorBodySchema.nullable().default(null),
});
export type HostAuditVerification = z.infer<typeof HostAuditVerificationSchema>;

/**
 * An entry of a runtime's own audit log as the host holds it: the control center's shape, with
 * the runtime's words for action and outcome (its gRPC method, its error code or status name).
 */
export const RuntimeAuditEntrySchema = z.object({
  seq: z.number().int().positive(),
  atMs: z.number().int(),
  /** The operator the token or certificate named; null when none was identified. */
  operator: z.string().nullable(),
  /** How the caller was known: `token:<role>`, `certificate:<role>`, `unidentified`, or `runtime` (its own entries). */
  actor: z.string(),
  peer: z.string(),
  action: z.string(),
  method: z.string(),
  target: z.string().nullable(),
  outcome: z.string(),
  prevHash: AuditHashSchema,
  hash: AuditHashSchema,
});
export type RuntimeAuditEntry = z.infer<typeof RuntimeAuditEntrySchema>;

export const MAX_HOST_AUDIT_PAGE = 1000;

export const HostAuditLogParamsSchema = z
  .object({
    hostId: z.number().int().positive(),
    /** Entries whose operator or actor contains this. */
    who: z.string().min(1).max(128).optional(),
    /** The runtime's action (`control`, `scale`, `manifest`, `view`...). */
    action: z.string().min(1).max(64).optional(),
    /** Entries whose target or method contains this. */
    target: z.string().min(1).max(256).optional(),
    /** `ok`, `error` (anything else), or one outcome code (`PERMISSION_DENIED`). */
    outcome: z
      .union([z.enum(['ok', 'error']), z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'an outcome code such as PERMISSION_DENIED')])
      .optional(),
    fromMs: z.number().int().optional(),
    toMs: z.number().int().optional(),
    /** The page of entries older than this seq (from the previous page's `next`). */
    before: z.number().int().positive().optional(),
    limit: z.number().int().min(1).max(MAX_HOST_AUDIT_PAGE).default(100),
  })
  .strict();

export const HostKeyHistoryEventSchema = z.object({
  id: z.number().int().positive(),
  atMs: z.number().int(),
  /** The host's id then (it may since have been removed). */
  hostId: z.number().int().nullable(),
  /** The host's name when the event was recorded. */
  hostName: z.string(),
  /** trusted (first pin), retrusted (a changed key confirmed), refused (a key that did not match). */
  event: z.enum(['trusted', 'retrusted', 'refused']),
  keyType: z.string(),
  fingerprint: z.string(),
  previousFingerprint: z.string().nullable(),
  /** Who or what decided: the actor of a trust, the connection that refused a key. */
  source: z.string(),
});
export type HostKeyHistoryEvent = z.infer<typeof HostKeyHistoryEventSchema>;

export const auditMethods = {
  /** One page of the audit log (newest or oldest first), filtered by who, action, target, outcome and time. */
  'audit.list': {
    params: AuditListParamsSchema,
    result: AuditPageSchema,
  },
  /** Checks every entry against its hash and the one before it; with an anchor, that the log still holds it. */
  'audit.verify': {
    params: z.object({ anchor: AuditAnchorSchema.optional() }).strict(),
    result: AuditVerificationSchema,
  },
  /**
   * Reads each runtime's own audit log over SSH (the host's pinned key; as root where the install
   * is system-wide) and verifies it: one host, or every host of an install in turn (exactly one of
   * the two; BAD_PARAMS otherwise). An anchor (only with one host) is an entry of that host's log
   * written down earlier.
   */
  'audit.verifyHost': {
    params: z
      .object({ host: HostNameSchema.optional(), install: InstallNameSchema.optional(), anchor: AuditAnchorSchema.optional() })
      .strict(),
    result: z.object({
      hosts: z.array(HostAuditVerificationSchema),
      /** With an install: each host whose log could not be read (unreachable, too large, no file), with why; the others are still verified. */
      unread: z.array(z.object({ host: z.string(), error: ApiErrorBodySchema })).default([]),
    }),
  },
  /**
   * One host's runtime audit log, read over SSH as audit.verifyHost reads it and verified at
   * each call: a page of its entries, newest first, filtered; with the verification of the whole.
   */
  'audit.hostLog': {
    params: HostAuditLogParamsSchema,
    result: z.object({
      verification: HostAuditVerificationSchema,
      entries: z.array(RuntimeAuditEntrySchema),
      /** The `before` of the next (older) page; null when this one is the last. */
      next: z.number().int().positive().nullable(),
      /** How many entries match the filters in all. */
      matched: z.number().int().nonnegative(),
    }),
  },
  /**
   * An admin accepts a host's runtime log as it is now, after a deliberate reset (a reinstalled
   * runtime, a log restored from a copy): the log is read and must be intact by itself and hold
   * `head` (the entry named, normally the newest the failed verify printed), which becomes the
   * head remembered for the host. Audited; never done by a verify on its own.
   */
  'audit.acceptHostReset': {
    params: z.object({ host: HostNameSchema, head: AuditAnchorSchema }).strict(),
    result: z.object({
      host: z.string(),
      /** What was remembered before (null: nothing), as the log read now stood to it. */
      previous: RememberedHeadSchema.nullable(),
      head: AuditAnchorSchema,
    }),
  },
  /** Every host-key decision and refusal, newest first, kept after the host is removed. */
  'audit.hostKeys': {
    params: z
      .object({
        /** Events of hosts whose name contains this. */
        host: z.string().min(1).max(256).optional(),
        fromMs: z.number().int().optional(),
        toMs: z.number().int().optional(),
        /** The page after this event (older ones). */
        after: z.number().int().positive().optional(),
        limit: z.number().int().min(1).max(MAX_AUDIT_PAGE).default(50),
      })
      .strict(),
    result: z.object({ events: z.array(HostKeyHistoryEventSchema), next: z.number().int().positive().nullable() }),
  },
} as const;
