import { describe, expect, it } from 'vitest';
import type { ClientRole } from '../../../agents-runtime/src/server/client-role';
import { loadRuntimePackageDefinition } from '../../../agents-runtime/src/wire/load-proto';
import { ROLES, type Role } from '../../../agents-runtime/src/wire/roles';
import { authorize, METHOD_ROLES, methodsWithoutPolicy, roleAtLeast } from '../../../agents-runtime/src/server/role-policy';

const R = '/sutazai.runtime.v1.Runtime';
const as = (role: Role): ClientRole => ({ ok: true, role });

describe('METHOD_ROLES', () => {
  it('names exactly the methods of runtime.proto and health.proto', () => {
    const definition = loadRuntimePackageDefinition();
    const paths = Object.values(definition)
      .filter((entry) => !('format' in entry))
      .flatMap((service) => Object.values(service as Record<string, { path: string }>).map((method) => method.path))
      .sort();
    expect(paths).toHaveLength(13);
    expect(methodsWithoutPolicy(paths)).toEqual([]);
    expect(Object.keys(METHOD_ROLES).sort()).toEqual(paths);
  });

  it('matches the issue: viewer reads, operator starts/stops/restarts/scales, admin changes the manifest and the access state', () => {
    const byRole = (role: Role) =>
      Object.entries(METHOD_ROLES)
        .filter(([, needed]) => needed === role)
        .map(([path]) => path.split('/')[2])
        .sort();
    expect(byRole('viewer')).toEqual(['Check', 'GetInfo', 'ListProcesses', 'StreamMetrics', 'TailLogs', 'Watch', 'WatchEvents']);
    expect(byRole('operator')).toEqual(['RestartProcess', 'ScaleProcess', 'StartProcess', 'StopProcess']);
    expect(byRole('admin')).toEqual(['SetAccessState', 'UpdateManifest']);
  });
});

describe('roleAtLeast', () => {
  it('orders viewer < operator < admin', () => {
    const grid = ROLES.map((role) => ROLES.map((needed) => roleAtLeast(role, needed)));
    expect(grid).toEqual([
      [true, false, false],
      [true, true, false],
      [true, true, true],
    ]);
  });
});

describe('authorize', () => {
  it('lets a viewer read but not restart, naming the role needed', () => {
    expect(authorize(`${R}/GetInfo`, as('viewer'))).toEqual({ allowed: true, role: 'viewer' });
    const denied = authorize(`${R}/RestartProcess`, as('viewer'));
    expect(denied.allowed).toBe(false);
    if (!denied.allowed) {
      expect(denied.message).toBe('RestartProcess needs the role operator; this client certificate carries viewer');
      expect(denied.remedy).toMatch(/operator/);
    }
  });

  it('lets an operator restart and scale but not change the manifest', () => {
    expect(authorize(`${R}/RestartProcess`, as('operator')).allowed).toBe(true);
    expect(authorize(`${R}/ScaleProcess`, as('operator')).allowed).toBe(true);
    const denied = authorize(`${R}/UpdateManifest`, as('operator'));
    expect(denied).toMatchObject({ allowed: false, message: expect.stringContaining('needs the role admin') });
  });

  it('lets an admin do everything', () => {
    for (const path of Object.keys(METHOD_ROLES)) expect(authorize(path, as('admin')).allowed).toBe(true);
  });

  it('refuses a certificate without a role, saying why and which URI to issue', () => {
    const denied = authorize(`${R}/GetInfo`, { ok: false, reason: 'no-role', detail: 'the client certificate has no role' });
    expect(denied).toMatchObject({ allowed: false, message: 'GetInfo needs the role viewer, and the client certificate has no role' });
    if (!denied.allowed) expect(denied.remedy).toContain('urn:sutazai:role:viewer');
  });

  it('refuses a method the table does not name, even to an admin', () => {
    expect(authorize(`${R}/DeleteEverything`, as('admin'))).toMatchObject({ allowed: false });
    expect(methodsWithoutPolicy([`${R}/GetInfo`, `${R}/DeleteEverything`])).toEqual([`${R}/DeleteEverything`]);
  });
});
