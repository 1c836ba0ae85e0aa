import type { AuditLog } from '../audit/audit-log';
import type { MethodHandlers } from '../server/dispatcher';

type AuditMethod = Extract<keyof MethodHandlers, `audit.${string}`>;

/** The audit log's methods: reading it by page, verifying its chain, the host-key history beside it. Nothing here writes it. */
export function createAuditHandlers({ audit }: { audit: AuditLog }): Pick<MethodHandlers, AuditMethod> {
  return {
    'audit.list': (params) => audit.list(params),
    'audit.verify': ({ anchor }) => audit.verify(anchor),
    'audit.hostKeys': (params) => audit.hostKeys(params),
  };
}
