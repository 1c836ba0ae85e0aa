import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../../electron/contract';
import { cspViolations, gotoPage } from '../support/chromium';
import { shoot } from '../support/e2e-screenshots';
import { openInstalledWebMode } from '../support/installed-web-mode';
import type { HostTree } from '../support/release-lab';
import { setUpSuite } from '../support/suite-set-up';
import { makeTempDir } from '../support/temp-dir';
import type { TestHost } from '../support/test-hosts/test-hosts';
import { useTestLab } from '../support/test-hosts/use-test-lab';
import { makeWaitFor } from '../support/wait-for';

/**
 * A host's runtime audit log on the Audit page, as a newcomer meets it: SutazAI installed for
 * real on a test host with a small `runtime.audit` cap (so the runtime seals segments and drops
 * the oldest), `npm run web` with the vault unlocked and Debian's Chromium on it. The page reads
 * the host's log over SSH: the real ScaleProcess entries, filtered; where the kept chain starts;
 * an export as JSON lines whose chain links; an entry edited on the host shown broken, at it;
 * and the newest entry cut off on the host (a chain still whole by itself) shown as cut off
 * against the entry the control center remembers, until an admin accepts the log as a new start.
 */

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-e2e-audit-runtime-');
const HOST_NAME = 'audit-rt';
const waitFor = makeWaitFor({ timeoutMs: 90_000, pollMs: 500 });

let tree: HostTree;
let testHost: TestHost;
let hostId = 0;
let page: Page;
let url = '';
let api: ApiClient;
const problems: string[] = [];

setUpSuite(
  async (defer) => {
    defer(tmp.remove);
    const installed = await openInstalledWebMode(defer, labRef.lab, {
      dir: tmp.path,
      install: 'auditrt',
      bundleName: 'auditrt',
      hostName: HOST_NAME,
      problems,
      values: { agents: { replicas_per_host: 1 }, runtime: { audit: { max_file_bytes: 4096, keep_files: 1 } } },
    });
    ({ tree, host: testHost } = installed.host);
    ({ hostId, api } = installed);
    ({ page, url } = installed.session);
    // Real calls through the host's link, once it is up: each a ScaleProcess entry in the runtime's log.
    await waitFor('the link to the host', async () =>
      (await api.call('fleet.scale', { hostId, process: 'agent', replicas: 1 }).then(
        () => true,
        () => false,
      ))
        ? true
        : null,
    );
    for (let i = 0; i < 30; i += 1) await api.call('fleet.scale', { hostId, process: 'agent', replicas: 1 });
  },
  { setUpMs: 400_000, undoMs: 120_000 },
);

const liveLog = () => path.join(tree.stateDir, 'audit.log');

describe("a host's runtime audit log on the Audit page", () => {
  it('shows the real entries after choosing the host, verified, with where the kept chain starts', async () => {
    await gotoPage(page, url, { waitUntil: 'load' });
    await page.getByRole('link', { name: 'Audit', exact: true }).click();
    // Below the control center's own log: the page's header leads there.
    await page.getByTestId('audit-jump-runtime').click();
    const section = page.getByTestId('audit-runtime');
    await section.waitFor({ state: 'visible' });
    await section.getByTestId('audit-runtime-host').selectOption({ label: HOST_NAME });
    const chain = section.getByTestId('audit-runtime-chain');
    await chain.waitFor({ timeout: 60_000 });
    await expect(chain.getAttribute('data-state')).resolves.toBe('intact');
    await expect(section.getByTestId('audit-runtime-kept').textContent()).resolves.toMatch(/^The kept chain starts at entry \d+/);
    const scale = section.locator('[data-testid="audit-runtime-row"][data-method="ScaleProcess"]').first();
    await expect(scale.textContent()).resolves.toContain('process agent, replicas 1');
    await shoot(page, 'audit-runtime-log', { fullPage: true });

    // Filtered to the runtime's own entries: each segment it dropped, said in the chain.
    await section.getByTestId('audit-runtime-action').selectOption('audit');
    await waitFor('only the drop entries', async () => {
      const methods = await section
        .locator('[data-testid="audit-runtime-row"]')
        .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-method')));
      return methods.length > 0 && methods.every((m) => m === 'DropAuditSegment') ? true : null;
    });
    await section.getByTestId('audit-runtime-action').selectOption('scale');
    await waitFor('only the scale entries', async () => {
      const methods = await section
        .locator('[data-testid="audit-runtime-row"]')
        .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-method')));
      return methods.length > 0 && methods.every((m) => m === 'ScaleProcess') ? true : null;
    });
  });

  it('exports the entries as JSON lines, oldest first, each chained to the one before', async () => {
    const section = page.getByTestId('audit-runtime');
    await section.getByTestId('audit-runtime-action').selectOption('');
    await section.locator('[data-testid="audit-runtime-row"][data-method="DropAuditSegment"]').first().waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), section.getByTestId('audit-runtime-export').click()]);
    expect(download.suggestedFilename()).toBe(`runtime-audit-${HOST_NAME}.jsonl`);
    const out = path.join(tmp.path, 'exported.jsonl');
    await download.saveAs(out);
    const rows = fs
      .readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { seq: number; prevHash: string; hash: string });
    const { hosts } = await api.call('audit.verifyHost', { host: HOST_NAME });
    expect(rows).toHaveLength(hosts[0]!.entries);
    expect(rows.at(-1)).toMatchObject(hosts[0]!.head!);
    for (let i = 1; i < rows.length; i += 1) expect(rows[i]).toMatchObject({ seq: rows[i - 1]!.seq + 1, prevHash: rows[i - 1]!.hash });
  });

  it('shows the chain broken at an entry edited on the host, once read again', async () => {
    const original = fs.readFileSync(liveLog(), 'utf8');
    const lines = original.trimEnd().split('\n');
    const edited = JSON.parse(lines.at(-1)!) as { seq: number; target: string | null };
    lines[lines.length - 1] = JSON.stringify({ ...(JSON.parse(lines.at(-1)!) as object), target: 'process agent, replicas 7' });
    fs.writeFileSync(liveLog(), `${lines.join('\n')}\n`);
    try {
      const section = page.getByTestId('audit-runtime');
      await section.getByTestId('audit-runtime-refresh').click();
      const chain = section.locator('[data-testid="audit-runtime-chain"][data-state="broken"]');
      await chain.waitFor({ timeout: 60_000 });
      await expect(chain.getAttribute('data-seq')).resolves.toBe(String(edited.seq));
      await expect(chain.textContent()).resolves.toContain(`entry ${edited.seq} was edited`);
      await expect(
        section.locator(`[data-testid="audit-runtime-row"][data-seq="${edited.seq}"]`).getAttribute('data-broken'),
      ).resolves.toBe('edited');
      await shoot(page, 'audit-runtime-log-broken');
    } finally {
      fs.writeFileSync(liveLog(), original);
    }
  });

  it('shows the newest entry cut off on the host as truncated, and takes it as a new start only when accepted', async () => {
    const section = page.getByTestId('audit-runtime');
    // Two entries in the live file at least, so that one is left with the drop it may record.
    while (fs.readFileSync(liveLog(), 'utf8').trimEnd().split('\n').length < 3)
      await api.call('fleet.scale', { hostId, process: 'agent', replicas: 1 });
    const original = fs.readFileSync(liveLog(), 'utf8');
    const lines = original.trimEnd().split('\n');
    const cut = JSON.parse(lines.at(-1)!) as { seq: number };
    const cutTo = JSON.parse(lines.at(-2)!) as { seq: number; hash: string };
    // Read once whole (this read done, not an earlier one): its newest entry is remembered.
    await section.getByTestId('audit-runtime-refresh').click();
    await waitFor('the page to read the whole log', async () =>
      (await section.getByTestId('audit-runtime-chain').textContent())?.includes(`Newest entry ${cut.seq},`) ? true : null,
    );
    try {
      // As root on the host, in place: the last line deleted.
      const run = await labRef.lab.exec(testHost, `set -e; f='${liveLog()}'; head -n -1 "$f" > "$f.cut"; cat "$f.cut" > "$f"; rm "$f.cut"`);
      expect(run.code, run.stderr).toBe(0);
      expect(fs.readFileSync(liveLog(), 'utf8').trimEnd().split('\n')).toHaveLength(lines.length - 1);
      await section.getByTestId('audit-runtime-refresh').click();
      const chain = section.locator('[data-testid="audit-runtime-chain"]:not([data-state="intact"])');
      await chain.waitFor({ timeout: 60_000 }).catch(async (error: unknown) => {
        throw new Error(`${String(error)}\nThe section read: ${await section.getByTestId('audit-runtime-chain').textContent()}`);
      });
      await expect(chain.getAttribute('data-state')).resolves.toBe('truncated');
      await expect(chain.getAttribute('data-code')).resolves.toBe('AUDIT_HOST_TRUNCATED');
      await expect(chain.textContent()).resolves.toContain(`Entry ${cut.seq} was cut off the end of the log`);
      await expect(chain.textContent()).resolves.toContain(`Newest entry now ${cutTo.seq}`);
      await shoot(page, 'audit-runtime-log-truncated');

      // An admin's accepted reset, confirmed: the log as it is now is the new start.
      await section.getByTestId('audit-runtime-accept-reset').click();
      const dialog = page.getByTestId('confirm-accept-host-reset');
      await dialog.waitFor();
      await expect(dialog.textContent()).resolves.toContain(`Entry ${cutTo.seq}, hash ${cutTo.hash}`);
      await shoot(page, 'audit-runtime-log-accept-reset');
      await dialog.getByRole('button', { name: 'Accept as a new start' }).click();
      await section.locator('[data-testid="audit-runtime-chain"][data-state="intact"]').waitFor({ timeout: 60_000 });
      await expect(section.getByTestId('audit-runtime-remembered').textContent()).resolves.toContain(`It still holds entry ${cutTo.seq}`);
      const accepted = (await api.call('audit.list', { target: HOST_NAME, limit: 5 })).entries.find(
        (e) => e.method === 'audit.acceptHostReset',
      );
      expect(accepted).toMatchObject({ outcome: 'ok', target: `host ${HOST_NAME}, new start entry ${cutTo.seq} ${cutTo.hash}` });
    } finally {
      fs.writeFileSync(liveLog(), original);
    }
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });
});
