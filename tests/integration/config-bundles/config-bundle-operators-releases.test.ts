import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../../electron/contract';
import { configDocumentToYaml, parseConfigDocument } from '../../../electron/backend/bundles/config-bundles/config-yaml';
import { createHostReleasesRepo } from '../../../electron/backend/store/host-releases-repo';
import { codeOf } from '../../support/api-pipes';
import { closeConfigSite, fileSha256, startConfigSite, type ConfigSite } from '../../support/config-sites';
import { recordInstall } from '../../support/recorded-installs';
import { seedStandInBundle } from '../../support/stand-in-rows';
import { makeTempDir } from '../../support/temp-dir';

/**
 * Configuration bundles, the rest of issue 15 items 1-3 against real stores: operators and
 * the releases each host runs travel in the file and are compared on review; trusted
 * exporters are revoked; sealed secrets a review could not open are named; an import applies
 * only the file its review read (by SHA-256).
 */

const VAULT = 'vault passphrase for the site';
const EXPORT_PASSPHRASE = 'four unrelated words here';
const ADMIN_PASSWORD = 'admin password of the origin';
const HERE_PASSWORD = 'admin password of the site here';
const DB_PASSWORD = 'db-1 login password 7Qz';

const scratch = makeTempDir('sutazai-config-ops-');
const sites: ConfigSite[] = [];
const out = (name: string) => path.join(scratch.path, name);

async function startSite(name: string): Promise<ConfigSite> {
  const site = await startConfigSite(out(name), VAULT);
  sites.push(site);
  return site;
}

/** Adds the site's first admin and signs the site's pipe in as it (operators exist from then on). */
async function firstAdmin(site: ConfigSite, name: string, password: string): Promise<void> {
  await site.api.call('operators.add', { name, role: 'admin', password });
  await site.api.call('session.signIn', { name, password });
}

function operatorRows(site: ConfigSite): unknown[] {
  return site.db.prepare('SELECT name, role, attributes, disabled, password_kdf FROM operators ORDER BY name').all();
}

function releaseRows(site: ConfigSite): unknown[] {
  return site.db
    .prepare(
      'SELECT h.name AS host, r.version, r.state, r.path FROM host_releases r JOIN hosts h ON h.id = r.host_id ORDER BY h.name, r.version',
    )
    .all();
}

function markRelease(site: ConfigSite, host: string, version: string, installedAt: number): void {
  const ids = site.db
    .prepare("SELECT i.id AS installId, h.id AS hostId FROM installs i, hosts h WHERE i.name = 'prod' AND h.name = ?")
    .get(host) as { installId: number; hostId: number };
  createHostReleasesRepo(site.db).markCurrent({
    ...ids,
    version,
    bundleSha256: version.replaceAll('.', '').padEnd(64, 'c').slice(0, 64),
    path: `/opt/sutazai/releases/${version}`,
    installedAt,
  });
}

async function importAll(api: ApiClient, file: string, extra: Record<string, unknown> = {}) {
  return api.call('configBundles.import', { path: file, sha256: fileSha256(file), items: 'all', ...extra });
}

let origin: ConfigSite;
let bundle: string;
let signer: string;

beforeAll(async () => {
  origin = await startSite('origin');
  await origin.api.call('hosts.add', {
    name: 'db-1',
    address: '198.18.43.2',
    user: 'sutazai',
    auth: { method: 'password', password: DB_PASSWORD },
  });
  recordInstall(origin.db, seedStandInBundle(origin.db), {
    name: 'prod',
    hosts: [{ name: 'core-1', address: '198.18.43.4', role: 'core', state: 'installed' }],
  });
  // The stand-in bundle is 0.1.0; core-1 ran 0.0.9 before it.
  markRelease(origin, 'core-1', '0.0.9', 10);
  markRelease(origin, 'core-1', '0.1.0', 20);
  await firstAdmin(origin, 'alice', ADMIN_PASSWORD);
  await origin.api.call('operators.add', {
    name: 'bob',
    role: 'operator',
    password: 'bob password long enough',
    attributes: { team: 'ops', installs: ['prod'] },
  });
  await origin.api.call('operators.add', { name: 'carol', role: 'viewer', password: 'carol password long enough' });
  await origin.api.call('operators.set', { name: 'carol', disabled: true });
  bundle = out('site.sutazai-config');
  const exported = await origin.api.call('configBundles.export', { path: bundle, format: 'bundle', secretsPassphrase: EXPORT_PASSPHRASE });
  signer = exported.signedBy!;
}, 120_000);

afterAll(async () => {
  for (const site of sites) await closeConfigSite(site);
  scratch.remove();
});

describe('operators in a configuration export', () => {
  it('carries name, role, attributes and disabled, never a password hash', async () => {
    const yaml = out('origin.yaml');
    await origin.api.call('configBundles.export', { path: yaml, format: 'yaml' });
    const document = parseConfigDocument(fs.readFileSync(yaml, 'utf8'), yaml);
    expect(document.operators).toEqual([
      { name: 'alice', role: 'admin', attributes: {}, disabled: false },
      { name: 'bob', role: 'operator', attributes: { team: 'ops', installs: ['prod'] }, disabled: false },
      { name: 'carol', role: 'viewer', attributes: {}, disabled: true },
    ]);
    const text = fs.readFileSync(yaml, 'utf8');
    expect(text).not.toMatch(/password_hash|scrypt|salt/);
  });

  it('is blocked in a store without operators (no one could sign in), and the store is unchanged', async () => {
    const site = await startSite('no-operators');
    const review = await site.api.call('configBundles.review', { path: bundle });
    const alice = review.items.find((i) => i.id === 'operator:alice')!;
    expect(alice.status).toBe('blocked');
    expect(alice.reason).toContain('no one could sign in');
    const all = await importAll(site.api, bundle, { trustExporter: signer, withoutSecrets: true });
    expect(all.left).toContainEqual({ id: 'operator:alice', reason: expect.stringContaining('blocked:') });
    expect(operatorRows(site)).toEqual([]);
    expect(
      await codeOf(
        site.api.call('configBundles.import', {
          path: bundle,
          sha256: fileSha256(bundle),
          items: ['operator:alice'],
          withoutSecrets: true,
        }),
      ),
    ).toBe('CONFIG_IMPORT_BLOCKED');
    expect(operatorRows(site)).toEqual([]);
  });

  it('creates new operators without a password (they cannot sign in until an admin sets one) and shows changes field by field', async () => {
    const site = await startSite('with-admin');
    await firstAdmin(site, 'root-admin', HERE_PASSWORD);
    await site.api.call('operators.add', { name: 'bob', role: 'viewer', password: 'bob here, long enough' });

    const review = await site.api.call('configBundles.review', { path: bundle });
    const byId = new Map(review.items.map((i) => [i.id, i]));
    expect(byId.get('operator:alice')).toMatchObject({ status: 'new' });
    expect(byId.get('operator:alice')!.changes).toContainEqual({
      field: 'password',
      from: '',
      to: expect.stringContaining('cannot sign in'),
    });
    expect(byId.get('operator:bob')).toMatchObject({
      status: 'changed',
      changes: [
        { field: 'role', from: 'viewer', to: 'operator' },
        { field: 'attributes', from: '{}', to: '{"team":"ops","installs":["prod"]}' },
      ],
    });

    const imported = await importAll(site.api, bundle, { trustExporter: signer, withoutSecrets: true });
    expect(imported.applied).toEqual(expect.arrayContaining(['operator:alice', 'operator:bob', 'operator:carol']));
    expect(imported.operatorsWithoutPassword).toEqual(['alice', 'carol']);
    const listed = await site.api.call('operators.list', {});
    expect(listed.map((o) => `${o.name} ${o.role} ${o.disabled}`)).toEqual([
      'alice admin false',
      'bob operator false',
      'carol viewer true',
      'root-admin admin false',
    ]);
    expect(listed.find((o) => o.name === 'bob')!.attributes).toEqual({ team: 'ops', installs: ['prod'] });

    // alice has no password here: no password signs her in, not even the origin's.
    const window = site.backend.openClient('test-window');
    try {
      expect(await codeOf(window.call('session.signIn', { name: 'alice', password: ADMIN_PASSWORD }))).toBe('SIGN_IN_FAILED');
      await site.api.call('operators.set', { name: 'alice', password: 'a password set here by an admin' });
      await window.call('session.signIn', { name: 'alice', password: 'a password set here by an admin' });
    } finally {
      window.close();
    }

    // Importing again changes nothing.
    const rows = operatorRows(site);
    const again = await importAll(site.api, bundle, { withoutSecrets: true });
    expect(again.applied).toEqual([]);
    expect(operatorRows(site)).toEqual(rows);
  });

  it('an operator disabled by an import loses their runtime certificates, as one disabled here does', async () => {
    const site = await startSite('disabling');
    recordInstall(site.db, seedStandInBundle(site.db), {
      name: 'lab',
      hosts: [{ name: 'lab-1', address: '198.18.43.9', role: 'core', state: 'installed' }],
    });
    const installId = (site.db.prepare("SELECT id FROM installs WHERE name = 'lab'").get() as { id: number }).id;
    await firstAdmin(site, 'root-admin', ADMIN_PASSWORD);
    await site.api.call('operators.add', { name: 'carol', role: 'viewer', password: 'carol password long enough' });
    site.db
      .prepare(
        "INSERT INTO operator_certificates (install_id, operator_name, serial, role, not_after, issued_at) VALUES (?, 'carol', '0a1b', 'viewer', ?, ?)",
      )
      .run(installId, Date.now() + 3_600_000, Date.now());
    const revokedAt = () =>
      (site.db.prepare("SELECT revoked_at FROM operator_certificates WHERE serial = '0a1b'").get() as { revoked_at: number | null })
        .revoked_at;
    expect(revokedAt()).toBeNull();
    await site.api.call('configBundles.import', {
      path: bundle,
      sha256: fileSha256(bundle),
      items: ['operator:carol'],
      trustExporter: signer,
      withoutSecrets: true,
    });
    expect((await site.api.call('operators.list', {})).find((o) => o.name === 'carol')?.disabled).toBe(true);
    expect(revokedAt()).not.toBeNull();
  });

  it('refuses an import that would leave no enabled admin (OPERATOR_LAST_ADMIN), with the store unchanged and the refusal audited', async () => {
    const document = parseConfigDocument(fs.readFileSync(out('origin.yaml'), 'utf8'), 'origin.yaml');
    document.operators = [{ name: 'alice', role: 'viewer', attributes: {}, disabled: false }];
    const demoting = out('demoting.yaml');
    fs.writeFileSync(demoting, configDocumentToYaml(document));

    const site = await startSite('last-admin');
    await firstAdmin(site, 'alice', HERE_PASSWORD);
    const review = await site.api.call('configBundles.review', { path: demoting });
    const alice = review.items.find((i) => i.id === 'operator:alice')!;
    expect(alice.status).toBe('conflict');
    expect(alice.changes).toEqual([{ field: 'role', from: 'admin', to: 'viewer' }]);
    expect(alice.reason).toContain('no enabled admin');
    const before = operatorRows(site);
    const all = await importAll(site.api, demoting);
    expect(all.applied).not.toContain('operator:alice');
    expect(
      await codeOf(
        site.api.call('configBundles.import', { path: demoting, sha256: fileSha256(demoting), items: ['operator:alice', 'host:db-1'] }),
      ),
    ).toBe('OPERATOR_LAST_ADMIN');
    expect(operatorRows(site)).toEqual(before);
    const audit = await site.api.call('audit.list', { limit: 10 });
    expect(audit.entries.map((e) => `${e.method} ${e.outcome}`)).toContain('configBundles.import OPERATOR_LAST_ADMIN');
  });
});

describe('host releases in a configuration export', () => {
  it('exports which release each host runs, imports it, and the store exports the same again', async () => {
    const yaml = fs.readFileSync(out('origin.yaml'), 'utf8');
    const document = parseConfigDocument(yaml, 'origin.yaml');
    expect(document.installs[0]!.hosts[0]!.releases?.map((r) => `${r.version} ${r.state}`)).toEqual(['0.1.0 current', '0.0.9 previous']);
    const site = await startSite('releases-fresh');
    seedStandInBundle(site.db);
    const review = await site.api.call('configBundles.review', { path: out('origin.yaml') });
    expect(review.items.find((i) => i.id === 'install:prod')!.changes).toContainEqual({
      field: 'releases on core-1',
      from: '',
      to: '0.1.0 (current), 0.0.9 (previous)',
    });
    await importAll(site.api, out('origin.yaml'));
    expect(releaseRows(site)).toEqual(releaseRows(origin));
    await site.api.call('configBundles.export', { path: out('releases-again.yaml'), format: 'yaml' });
    const again = parseConfigDocument(fs.readFileSync(out('releases-again.yaml'), 'utf8'), 'again');
    expect(again.installs).toEqual(document.installs);
  });

  it('shows the release differences of an install here, and of one running a newer release (refused)', async () => {
    const site = await startSite('releases-differ');
    recordInstall(site.db, seedStandInBundle(site.db), {
      name: 'prod',
      hosts: [{ name: 'core-1', address: '198.18.43.4', role: 'core', state: 'installed' }],
    });
    markRelease(site, 'core-1', '0.0.9', 10);
    const older = (await site.api.call('configBundles.review', { path: out('origin.yaml') })).items.find((i) => i.id === 'install:prod')!;
    expect(older.status).toBe('changed');
    expect(older.changes).toContainEqual({ field: 'releases on core-1', from: '0.0.9 (current)', to: '0.1.0 (current), 0.0.9 (previous)' });

    markRelease(site, 'core-1', '0.2.0', 30);
    const newer = (await site.api.call('configBundles.review', { path: out('origin.yaml') })).items.find((i) => i.id === 'install:prod')!;
    expect(newer.status).toBe('conflict');
    expect(newer.changes).toContainEqual({
      field: 'releases on core-1',
      from: '0.2.0 (current), 0.0.9 (previous)',
      to: '0.1.0 (current), 0.0.9 (previous)',
    });
    const before = releaseRows(site);
    expect(
      await codeOf(
        site.api.call('configBundles.import', {
          path: out('origin.yaml'),
          sha256: fileSha256(out('origin.yaml')),
          items: ['install:prod'],
        }),
      ),
    ).toBe('CONFIG_IMPORT_NEWER_RELEASE');
    expect(releaseRows(site)).toEqual(before);
  });
});

describe('trusted exporters, sealed secrets and the reviewed file', () => {
  it('revokes a trusted exporter (audited): its bundles are untrusted again', async () => {
    const site = await startSite('revoke');
    await importAll(site.api, bundle, { trustExporter: signer, withoutSecrets: true, items: ['host:db-1'] });
    expect((await site.api.call('configBundles.keys', {})).trusted.map((k) => k.fingerprint)).toEqual([signer]);
    expect((await site.api.call('configBundles.review', { path: bundle })).exporter).toMatchObject({ trusted: true });

    expect(await site.api.call('configBundles.revokeExporter', { fingerprint: signer })).toMatchObject({ revoked: signer });
    expect((await site.api.call('configBundles.keys', {})).trusted).toEqual([]);
    expect((await site.api.call('configBundles.review', { path: bundle })).exporter).toMatchObject({ trusted: false });
    expect(await codeOf(importAll(site.api, bundle, { withoutSecrets: true }))).toBe('CONFIG_BUNDLE_EXPORTER_UNKNOWN');
    expect(await codeOf(site.api.call('configBundles.revokeExporter', { fingerprint: signer }))).toBe('NOT_FOUND');

    const audit = await site.api.call('audit.list', { limit: 10 });
    const revoked = audit.entries.find((e) => e.method === 'configBundles.revokeExporter' && e.outcome === 'ok');
    expect(revoked?.target).toBe(`key ${signer}`);
  });

  it('says which sealed secrets a review without the passphrase did not compare, and compares them with it', async () => {
    const site = await startSite('sealed');
    await site.api.call('hosts.add', {
      name: 'db-1',
      address: '198.18.43.2',
      user: 'sutazai',
      auth: { method: 'password', password: 'another' },
    });
    const without = await site.api.call('configBundles.review', { path: bundle });
    expect(without).toMatchObject({
      hasSecrets: true,
      secretsCompared: false,
      sealedNotCompared: [{ id: 'host:db-1', secret: 'login secret' }],
    });
    expect(without.items.find((i) => i.id === 'host:db-1')!.changes.map((c) => c.field)).not.toContain('login secret');

    const opened = await site.api.call('configBundles.review', { path: bundle, secretsPassphrase: EXPORT_PASSPHRASE });
    expect(opened).toMatchObject({ secretsCompared: true, sealedNotCompared: [] });
    expect(opened.items.find((i) => i.id === 'host:db-1')!.changes).toContainEqual({
      field: 'login secret',
      from: '(sealed)',
      to: '(sealed), different',
    });
  });

  it('refuses to import a file other than the one reviewed (CONFIG_IMPORT_FILE_CHANGED), with the store unchanged', async () => {
    const site = await startSite('swapped');
    const file = out('swap-me.yaml');
    fs.copyFileSync(out('origin.yaml'), file);
    const review = await site.api.call('configBundles.review', { path: file });
    expect(review.sha256).toBe(fileSha256(file));
    // Swapped after the review: another host, same name of file.
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('198.18.43.2', '203.0.113.66'));
    const hosts = site.db.prepare('SELECT count(*) AS n FROM hosts').get();
    expect(await codeOf(site.api.call('configBundles.import', { path: file, sha256: review.sha256, items: ['host:db-1'] }))).toBe(
      'CONFIG_IMPORT_FILE_CHANGED',
    );
    expect(site.db.prepare('SELECT count(*) AS n FROM hosts').get()).toEqual(hosts);
    // Swapped for something that does not even parse: still the swap that is reported, not the file's own error.
    fs.writeFileSync(file, 'hosts: [\n');
    expect(await codeOf(site.api.call('configBundles.import', { path: file, sha256: review.sha256, items: ['host:db-1'] }))).toBe(
      'CONFIG_IMPORT_FILE_CHANGED',
    );
    expect(await codeOf(site.api.call('configBundles.import', { path: file, items: 'all' } as never))).toBe('BAD_PARAMS');
  });
});
