/**
 * What the runtime's audit log records of its gRPC calls: every call that changes state
 * (process controls, scale, manifest, the pushed access state), however it ends, and every
 * refused call, reads included (a refusal is who tried what). The server's one interceptor
 * reports each call here once, with the caller it identified.
 */
import type { CallerIdentity } from '../server/caller-identity';
import type { AuditFields } from './audit-chain';
import type { AuditFile } from './audit-file';

/** Each method's action, in the control center's words (electron/contract/method-actions.ts ACTIONS). */
export const RUNTIME_METHOD_ACTIONS: Readonly<Record<string, string>> = {
  GetInfo: 'view',
  ListProcesses: 'view',
  WatchEvents: 'view',
  StreamMetrics: 'view',
  TailLogs: 'logs',
  StartProcess: 'control',
  StopProcess: 'control',
  RestartProcess: 'control',
  ScaleProcess: 'scale',
  UpdateManifest: 'manifest',
  SetAccessState: 'manage-operators',
  Check: 'view',
  Watch: 'view',
};

const READS = new Set(['view', 'logs']);

export interface AuditedCall {
  /** `/sutazai.runtime.v1.Runtime/StartProcess`. */
  methodPath: string;
  /** Who the interceptor found; null when the credentials were refused before anyone was. */
  caller: CallerIdentity | null;
  peer: string;
  request: unknown;
  /** `ok`, or the runtime's error code (or the gRPC status name) the call ended with. */
  outcome: string;
  /** Refused by the interceptor, before any handler ran. */
  refused: boolean;
}

export interface CallAudit {
  record(call: AuditedCall): void;
}

/**
 * Who an entry says made the call, from the identity the interceptor established (the
 * token's subject, or the operator or common name in the certificate), and how it was
 * known. The one place a caller becomes an audit entry's who.
 */
export function auditSubject(caller: CallerIdentity | null): { operator: string | null; actor: string } {
  if (caller === null) return { operator: null, actor: 'unidentified' };
  const role = caller.role.ok ? caller.role.role : 'no-role';
  return { operator: caller.subject === '' ? null : caller.subject, actor: `${caller.via}:${role}` };
}

export function createCallAudit(options: {
  file: AuditFile;
  now?: () => number;
  onError?: (error: unknown, fields: AuditFields) => void;
}): CallAudit {
  const now = options.now ?? Date.now;
  return {
    record(call) {
      const method = call.methodPath.slice(call.methodPath.lastIndexOf('/') + 1);
      const action = RUNTIME_METHOD_ACTIONS[method] ?? 'unknown';
      if (READS.has(action) && !call.refused) return;
      const fields: AuditFields = {
        atMs: now(),
        ...auditSubject(call.caller),
        peer: call.peer,
        action,
        method,
        target: callTarget(method, call.request),
        outcome: call.outcome,
      };
      try {
        options.file.append(fields);
      } catch (error) {
        // The call has been answered; the daemon's log says the entry is missing.
        options.onError?.(error, fields);
      }
    },
  };
}

/** What a call named, in words; never a secret (a manifest by its hash, the access state by its version). */
export function callTarget(method: string, request: unknown): string | null {
  if (typeof request !== 'object' || request === null) return null;
  const r = request as Record<string, unknown>;
  const parts: string[] = [];
  if (typeof r.name === 'string' && r.name !== '') parts.push(`process ${r.name}`);
  if (typeof r.instance === 'string' && r.instance !== '') parts.push(`instance ${r.instance}`);
  if (method === 'ScaleProcess' && typeof r.replicas === 'number') parts.push(`replicas ${r.replicas}`);
  if (method === 'UpdateManifest' && typeof r.manifestYaml === 'string')
    parts.push(
      `manifest sha256:${process.getBuiltinModule('node:crypto').createHash('sha256').update(r.manifestYaml, 'utf8').digest('hex').slice(0, 16)}`,
    );
  if (method === 'SetAccessState' && (typeof r.version === 'string' || typeof r.version === 'number'))
    parts.push(`access state ${String(r.version)}`);
  return parts.length === 0 ? null : parts.join(', ');
}
