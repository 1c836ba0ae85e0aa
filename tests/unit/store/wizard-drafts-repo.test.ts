import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WizardDraftInputSchema, type WizardDraft } from '../../../electron/contract';
import { migrations } from '../../../electron/backend/store/migrations';
import { runMigrations } from '../../../electron/backend/store/run-migrations';
import { createWizardDraftsRepo } from '../../../electron/backend/store/wizard-drafts-repo';
import { addStandInHost } from '../../support/stand-in-rows';
import { makeTempDir } from '../../support/temp-dir';

/**
 * The wizard's drafts in a real SQLite file: what one process writes, the next one (the
 * app opened again) reads back whole, overrides included; and a draft saved by an app
 * from before migration 8 still opens, with no overrides.
 */

let dir: ReturnType<typeof makeTempDir>;
let file: string;
const open: Database.Database[] = [];

function openDb(): Database.Database {
  const db = new Database(file);
  db.pragma('foreign_keys = ON');
  open.push(db);
  return db;
}

beforeEach(() => {
  dir = makeTempDir('sutazai-wizard-drafts-');
  file = path.join(dir.path, 'store.db');
});

afterEach(() => {
  for (const db of open.splice(0)) db.close();
  dir.remove();
});

function addHosts(db: Database.Database, names: string[]): number[] {
  return names.map((name, i) => addStandInHost(db, name, `10.0.0.${i + 1}`).id);
}

describe('the wizard drafts table', () => {
  it('gives back every host’s override after the database is closed and opened again', () => {
    const first = openDb();
    runMigrations(first);
    const [a, b] = addHosts(first, ['core-1', 'agent-1']) as [number, number];
    const draft: Omit<WizardDraft, 'createdAt' | 'updatedAt'> = {
      draftId: 'draft-1',
      step: 'configuration',
      bundleId: null,
      installName: 'lab',
      hostIds: [a, b],
      roles: [
        { hostId: a, role: 'both', gpu: false },
        { hostId: b, role: 'agent', gpu: false },
      ],
      environment: 'staging',
      config: { name: 'install.yaml', text: 'runtime:\n  grpc_port: 7601\n' },
      hostConfigs: [
        { hostId: a, config: { name: 'host-core-1.yaml', text: 'runtime:\n  logs:\n    keep_files: 7\n' } },
        { hostId: b, config: { name: 'host-agent-1.yaml', text: '' } },
      ],
      preflightAccepted: false,
      probeJobId: null,
      installJobId: null,
    };
    createWizardDraftsRepo(first).save(draft, 5_000);
    first.close();
    open.splice(0);

    const again = openDb();
    runMigrations(again);
    const read = createWizardDraftsRepo(again).get('draft-1');
    expect(read).toEqual({ ...draft, createdAt: 5_000, updatedAt: 5_000 });

    // Removing an override is stored as well: the next read has none for that host.
    createWizardDraftsRepo(again).save({ ...draft, hostConfigs: [draft.hostConfigs[1]!] }, 6_000);
    expect(createWizardDraftsRepo(again).newest()?.hostConfigs).toEqual([{ hostId: b, config: { name: 'host-agent-1.yaml', text: '' } }]);
  });

  it('opens a draft saved before migration 8 with no overrides, valid for the contract', () => {
    const old = openDb();
    runMigrations(
      old,
      migrations.filter((m) => m.version < 8),
    );
    expect(old.pragma('user_version', { simple: true })).toBe(7);
    const columns = () => old.prepare<[], string>("SELECT name FROM pragma_table_info('wizard_drafts')").pluck().all();
    expect(columns()).not.toContain('host_configs');
    old
      .prepare(
        `INSERT INTO wizard_drafts (id, step, install_name, host_ids, roles, config_name, config_text, created_at, updated_at)
         VALUES ('old', 'roles', 'lab', '[]', '[]', 'install.yaml', '', 1, 2)`,
      )
      .run();

    expect(runMigrations(old)).toEqual({ from: 7, to: migrations.at(-1)!.version });
    expect(columns()).toContain('host_configs');
    const draft = createWizardDraftsRepo(old).get('old');
    expect(draft?.hostConfigs).toEqual([]);
    const { createdAt: _c, updatedAt: _u, ...input } = draft!;
    expect(WizardDraftInputSchema.safeParse(input).success).toBe(true);
  });

  it('takes a draft without overrides from a client that predates them', () => {
    const parsed = WizardDraftInputSchema.parse({
      step: 'bundle',
      bundleId: null,
      installName: 'lab',
      hostIds: [],
      roles: [],
      environment: null,
      config: { name: 'install.yaml', text: '' },
      preflightAccepted: false,
      probeJobId: null,
      installJobId: null,
    });
    expect(parsed.hostConfigs).toEqual([]);
  });
});
