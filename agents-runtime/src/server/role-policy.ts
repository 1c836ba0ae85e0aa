/**
 * Which role each gRPC method needs, as one table a reader can check against the issue:
 * `viewer` reads, `operator` also starts, stops, restarts and scales, `admin` also changes
 * the manifest. A method missing from the table is refused (and the server refuses to
 * start when its services have a method the table does not name).
 */
import { ROLES, type Role } from '../wire/roles';
import type { ClientRole } from './client-role';

export const RUNTIME_SERVICE = 'sutazai.runtime.v1.Runtime';
export const HEALTH_SERVICE = 'grpc.health.v1.Health';

export const METHOD_ROLES: Readonly<Record<string, Role>> = {
  [`/${RUNTIME_SERVICE}/GetInfo`]: 'viewer',
  [`/${RUNTIME_SERVICE}/ListProcesses`]: 'viewer',
  [`/${RUNTIME_SERVICE}/WatchEvents`]: 'viewer',
  [`/${RUNTIME_SERVICE}/StreamMetrics`]: 'viewer',
  [`/${RUNTIME_SERVICE}/TailLogs`]: 'viewer',
  [`/${RUNTIME_SERVICE}/StartProcess`]: 'operator',
  [`/${RUNTIME_SERVICE}/StopProcess`]: 'operator',
  [`/${RUNTIME_SERVICE}/RestartProcess`]: 'operator',
  [`/${RUNTIME_SERVICE}/ScaleProcess`]: 'operator',
  [`/${RUNTIME_SERVICE}/UpdateManifest`]: 'admin',
  [`/${RUNTIME_SERVICE}/SetAccessState`]: 'admin',
  // Health answers any certificate of the install with a role: a probe is a viewer too.
  [`/${HEALTH_SERVICE}/Check`]: 'viewer',
  [`/${HEALTH_SERVICE}/Watch`]: 'viewer',
};

/**
 * Methods only the control center itself may call (its own certificate, no operator's token),
 * whatever the caller's role: the access state is the control center's word on who may call
 * at all, so an admin operator pushing one could lift their own limits (abac), add a token key
 * of their own or undo a revocation.
 */
export const CONTROL_CENTER_METHODS: ReadonlySet<string> = new Set([`/${RUNTIME_SERVICE}/SetAccessState`]);

/** The refusal of a CONTROL_CENTER_METHODS call made by anyone but the control center itself. */
export function controlCenterOnly(methodPath: string): Decision {
  const method = methodPath.slice(methodPath.lastIndexOf('/') + 1);
  return {
    allowed: false,
    message: `${method} is the control center's own: only its certificate (urn:sutazai:control-center), without an operator's token, may call it`,
    remedy: 'change operators, keys and the access policy in the control center: it pushes them to its runtimes over its link',
  };
}

/** True when `role` includes everything `needed` may do. */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

export type Decision = { allowed: true; role: Role } | { allowed: false; message: string; remedy: string };

/** Whether a caller with `client` (from its certificate) may call `methodPath` (`/pkg.Service/Method`). */
export function authorize(methodPath: string, client: ClientRole): Decision {
  const needed = METHOD_ROLES[methodPath];
  if (needed === undefined) {
    return {
      allowed: false,
      message: `${methodPath} has no role policy, so nobody may call it`,
      remedy: 'this is a defect of sutazai-runtime: report it with the method name',
    };
  }
  const method = methodPath.slice(methodPath.lastIndexOf('/') + 1);
  if (!client.ok) {
    return {
      allowed: false,
      message: `${method} needs the role ${needed}, and ${client.detail}`,
      remedy: `issue the operator a client certificate from the install's CA with the SAN URI urn:sutazai:role:${needed} (or a higher role)`,
    };
  }
  if (!roleAtLeast(client.role, needed)) {
    return {
      allowed: false,
      message: `${method} needs the role ${needed}; this client certificate carries ${client.role}`,
      remedy: `ask an admin for a client certificate with the role ${needed} (or a higher role), or use one that has it`,
    };
  }
  return { allowed: true, role: client.role };
}

/** Methods of the given services that the table does not name: must be empty at start. */
export function methodsWithoutPolicy(methodPaths: Iterable<string>): string[] {
  return [...methodPaths].filter((path) => METHOD_ROLES[path] === undefined);
}
