import type { Migration } from './migration';

export const migration008: Migration = {
  version: 8,
  name: 'install wizard drafts: per-host configuration overrides',
  up(db) {
    db.exec(`
      -- The per-host override layer the operator typed in the wizard: a JSON array of
      -- {hostId, config: {name, text}}, at most one per chosen host.
      ALTER TABLE wizard_drafts ADD COLUMN host_configs TEXT NOT NULL DEFAULT '[]';
    `);
  },
};
