import type { Migration } from './migration';

export const migration033: Migration = {
  version: 33,
  name: 'mfa-web-required',
  up(db) {
    db.exec(`
      -- Two-factor sign-in required of every operator signing in to web mode for a team: one
      -- without it is walked through enrolment at sign-in before any session starts. Beside
      -- step_up, set the same way (an admin with two-factor sign-in, audited).
      ALTER TABLE mfa_policy ADD COLUMN web_required INTEGER NOT NULL DEFAULT 0 CHECK (web_required IN (0, 1));
    `);
  },
};
