// Connecting needs an SSH host with a reachable jump chain; each refusal is the inventory's
// own code (host-errors.ts), not SSH_FAILED, which means a connection that failed.
import { describe, expect, it } from 'vitest';
import { buildSshTarget, MAX_JUMP_DEPTH, type TargetDeps } from '../../../electron/backend/hosts/build-ssh-target';
import type { HostRow } from '../../../electron/backend/store/hosts-repo';

function row(id: number, changes: Partial<HostRow> = {}): HostRow {
  return {
    id,
    name: `host-${id}`,
    kind: 'ssh',
    address: `198.18.0.${id}`,
    createdAt: 0,
    port: 22,
    user: 'root',
    authMethod: 'agent',
    keyPath: null,
    keySecretId: null,
    secretId: null,
    sudoSecretId: null,
    jumpHostId: null,
    role: null,
    labels: [],
    updatedAt: null,
    ...changes,
  };
}

function depsOf(rows: HostRow[]): TargetDeps {
  const byId = new Map(rows.map((r) => [r.id, r]));
  return {
    hosts: { get: (id: number) => byId.get(id) },
    hostKeys: { get: () => null },
    vault: {},
  } as unknown as TargetDeps;
}

describe('buildSshTarget', () => {
  it('refuses the local machine with HOST_IS_LOCAL', () => {
    const local = row(1, { kind: 'local', name: 'local' });
    expect(() => buildSshTarget(depsOf([local]), local)).toThrow(expect.objectContaining({ code: 'HOST_IS_LOCAL' }));
  });

  it('refuses a jump chain over the limit with HOST_JUMP_INVALID, and a vanished jump host with HOST_NOT_FOUND', () => {
    // A loop built behind the inventory's back: 1 -> 2 -> 1 -> ...
    const looped = [row(1, { jumpHostId: 2 }), row(2, { jumpHostId: 1 })];
    expect(() => buildSshTarget(depsOf(looped), looped[0]!)).toThrow(
      expect.objectContaining({ code: 'HOST_JUMP_INVALID', message: expect.stringContaining(`longer than ${MAX_JUMP_DEPTH} hops`) }),
    );
    const orphan = row(3, { jumpHostId: 9 });
    expect(() => buildSshTarget(depsOf([orphan]), orphan)).toThrow(expect.objectContaining({ code: 'HOST_NOT_FOUND' }));
  });

  it('builds the chain of an SSH host through its jump host', () => {
    const rows = [row(1), row(2, { jumpHostId: 1 })];
    expect(buildSshTarget(depsOf(rows), rows[1]!)).toMatchObject({ name: 'host-2', jump: { name: 'host-1', jump: null } });
  });
});
