import type { Migration } from './migration';

export const migration029: Migration = {
  version: 29,
  name: 'operator-provider-subjects',
  up(db) {
    db.exec(`
      -- Sign-in through the site's OpenID Connect provider: the provider account (issuer and
      -- subject, which the provider never reassigns) each operator first signed in with.
      -- Later provider sign-ins as that operator must come from the same account, whatever
      -- name claim they carry; one provider account stands for one operator at most. An admin
      -- clears a link (operators.set clearProviderSubject) when the person's account changes.
      CREATE TABLE operator_provider_subjects (
        operator_id INTEGER PRIMARY KEY REFERENCES operators (id) ON DELETE CASCADE,
        issuer TEXT NOT NULL,
        subject TEXT NOT NULL,
        linked_at INTEGER NOT NULL,
        UNIQUE (issuer, subject)
      );
    `);
  },
};
