import path from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadProfiles } from '../../../electron/backend/preflight/load-profiles';
import { createPreflightService } from '../../../electron/backend/preflight/preflight-service';
import { createFactsRepo } from '../../../electron/backend/store/facts-repo';
import { createHostsRepo } from '../../../electron/backend/store/hosts-repo';
import { createPreflightRepo } from '../../../electron/backend/store/preflight-repo';
import { openMemoryStore } from '../../support/memory-store';
import { addStandInHost } from '../../support/stand-in-rows';

const profiles = loadProfiles(path.resolve(__dirname, '../../../config'));
let db: Database.Database;

beforeEach(() => {
  db = openMemoryStore();
});
afterEach(() => db.close());

describe('preflight of a host never probed', () => {
  it('fails its facts check with a remedy a window’s reader can follow: the page’s button, no command line to type', () => {
    const hosts = createHostsRepo(db);
    const hostId = addStandInHost(db, 'db-1', '10.0.0.5').id;
    const report = createPreflightService({
      profiles: () => profiles,
      host: (id) => hosts.get(id)!,
      latestFacts: (id) => createFactsRepo(db).latest(id),
      results: createPreflightRepo(db),
      now: () => 2_000,
    }).run([hostId], 'agent');
    const [check] = report.hosts[0]!.checks;
    expect(check).toMatchObject({ id: 'facts', outcome: 'fail', message: 'db-1 has never been probed.' });
    expect(check!.remedy).toContain('Probe again on its page');
    expect(check!.remedy).not.toMatch(/sutazai |\s--[a-z]|hosts\.[a-z]/);
  });
});
