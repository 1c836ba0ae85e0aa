import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WizardDraftInput } from '../../../electron/contract';
import { createWizardDrafts } from '../../../electron/backend/wizard/wizard-drafts';
import { createBundlesRepo } from '../../../electron/backend/store/bundles-repo';
import { createHostsRepo } from '../../../electron/backend/store/hosts-repo';
import { createWizardDraftsRepo } from '../../../electron/backend/store/wizard-drafts-repo';
import { openMemoryStore } from '../../support/memory-store';
import { addStandInHost, seedStandInBundle } from '../../support/stand-in-rows';

let db: Database.Database;
let clock: number;
let bundleId: number;
let hostIds: number[];

function drafts() {
  return createWizardDrafts({
    drafts: createWizardDraftsRepo(db),
    bundles: createBundlesRepo(db),
    hosts: createHostsRepo(db),
    now: () => clock,
  });
}

beforeEach(() => {
  db = openMemoryStore();
  clock = 1_000;
  hostIds = ['a', 'b'].map((name, i) => addStandInHost(db, name, `10.0.0.${i + 1}`).id);
  bundleId = seedStandInBundle(db);
});
afterEach(() => db.close());

function input(changes: Partial<WizardDraftInput> = {}): WizardDraftInput {
  return {
    step: 'roles',
    bundleId,
    installName: 'lab',
    hostIds,
    roles: [
      { hostId: hostIds[0]!, role: 'both', gpu: false },
      { hostId: hostIds[1]!, role: 'agent', gpu: true },
    ],
    environment: 'staging',
    config: { name: 'install.yaml', text: 'agents:\n  replicas_per_host: 2\n' },
    hostConfigs: [{ hostId: hostIds[1]!, config: { name: 'host-b.yaml', text: 'agents:\n  gpu_replicas_per_host: 1\n' } }],
    preflightAccepted: true,
    probeJobId: 'job-1',
    installJobId: null,
    ...changes,
  };
}

describe('the install wizard’s drafts (migrations 6 and 8)', () => {
  it('keeps every choice as saved, and gives the newest draft when none is named', () => {
    const first = drafts().save(input());
    clock = 2_000;
    const second = drafts().save(input({ step: 'bundle', installName: 'other' }));
    expect(first).toEqual({ ...input(), draftId: first.draftId, createdAt: 1_000, updatedAt: 1_000 });
    expect(drafts().get()).toEqual(second);
    expect(drafts().get(first.draftId)).toEqual(first);

    clock = 3_000;
    const moved = drafts().save(input({ draftId: first.draftId, step: 'configuration' }));
    expect(moved).toMatchObject({ step: 'configuration', createdAt: 1_000, updatedAt: 3_000 });
    expect(drafts().get()?.draftId).toBe(first.draftId);
  });

  it('leaves out a host removed from the inventory since, with its role and its override', () => {
    const saved = drafts().save(input());
    createHostsRepo(db).remove(hostIds[1]!);
    expect(drafts().get(saved.draftId)).toMatchObject({
      hostIds: [hostIds[0]],
      roles: [{ hostId: hostIds[0], role: 'both', gpu: false }],
      hostConfigs: [],
    });
  });

  it('refuses an override for a host not chosen, and two overrides for one host, saying what to do', () => {
    const override = { hostId: hostIds[0]!, config: { name: 'host-a.yaml', text: 'runtime:\n  grpc_port: 7601\n' } };
    const notChosen = () =>
      drafts().save(input({ hostIds: [hostIds[1]!], roles: [{ hostId: hostIds[1]!, role: 'both', gpu: false }], hostConfigs: [override] }));
    expect(notChosen).toThrow(expect.objectContaining({ code: 'BAD_PARAMS', remedy: expect.stringMatching(/remove its override/) }));
    const twice = () => drafts().save(input({ hostConfigs: [override, { ...override, config: { name: 'host-a-2.yaml', text: '' } }] }));
    expect(twice).toThrow(expect.objectContaining({ code: 'BAD_PARAMS', message: expect.stringMatching(/two configuration overrides/) }));
    expect(drafts().get()).toBeNull();
  });

  it('refuses a bundle that was never imported, a role for a host not chosen, and a draft that is gone', () => {
    expect(() => drafts().save(input({ bundleId: 99 }))).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => drafts().save(input({ hostIds: [hostIds[0]!] }))).toThrow(expect.objectContaining({ code: 'BAD_PARAMS' }));
    const saved = drafts().save(input());
    expect(drafts().discard(saved.draftId)).toEqual({ discarded: true });
    expect(drafts().discard(saved.draftId)).toEqual({ discarded: false });
    expect(drafts().get()).toBeNull();
    expect(() => drafts().get(saved.draftId)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => drafts().save(input({ draftId: saved.draftId }))).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});
