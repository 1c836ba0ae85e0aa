import type { AuditLog } from '../audit/audit-log';
import type { HostAuditLogs } from '../audit/host-audit-logs';
import { whoActs, type MethodHandlers } from '../server/dispatcher';

type AuditMethod = Extract<keyof MethodHandlers, `audit.${string}`>;

/**
 * The audit log's methods: reading it by page, verifying its chain, the host-key history beside
 * it, and each runtime's own log verified from its host. Nothing here writes a log.
 */
export function createAuditHandlers({
  audit,
  hostAudit,
}: {
  audit: AuditLog;
  hostAudit: HostAuditLogs;
}): Pick<MethodHandlers, AuditMethod> {
  return {
    'audit.list': (params) => audit.list(params),
    'audit.verify': ({ anchor }) => audit.verify(anchor),
    // Who verified is remembered with the head it found intact (the implicit anchor).
    'audit.verifyHost': (params, caller) => hostAudit.verify(params, whoActs(caller)),
    'audit.hostLog': (params, caller) => hostAudit.log(params, whoActs(caller)),
    'audit.acceptHostReset': (params, caller) => hostAudit.acceptReset(params, whoActs(caller)),
    'audit.hostKeys': (params) => audit.hostKeys(params),
  };
}
