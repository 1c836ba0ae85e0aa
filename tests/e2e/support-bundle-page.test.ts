import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { writeSupportArchive } from '../../electron/backend/bundles/support-bundles/support-archive';
import { openStore } from '../../electron/backend/store/open-store';
import { cspViolations, gotoPage } from '../support/chromium';
import { shoot } from '../support/e2e-screenshots';
import { addStandInHost } from '../support/stand-in-rows';
import { setUpSuite } from '../support/suite-set-up';
import { makeTempDir } from '../support/temp-dir';
import { openWebModeSession } from '../support/web-mode-session';

/**
 * The Support page as a newcomer meets it, in Debian's Chromium against `npm run web` (web
 * mode: the bundle is downloaded through the browser, a bundle to analyze uploaded; the page
 * names no path on the backend's machine): a
 * host's support bundle collected (the host is offline: that is said, not fatal), every
 * planted secret of the control center's own log listed in the preview with its file, line
 * and rule and never shown whole, host names replaced on request, a rule of one's own added,
 * the bundle saved without any of them; then a bundle from a site with a crash-looping agent
 * analyzed, its finding and remedy shown.
 */

const HOST = 'e2e-sup-host';
const SECRETS = {
  password: 'Planted-E2E-Password-9',
  bearer: 'plantedE2eBearer.0123456789',
  key: 'PlantedE2eKeyMaterialZZZZYYYYXXXX',
  customer: 'ACME-Planted-Customer',
};

describe('the Support page', () => {
  let page: Page;
  let url = '';
  let dir = '';
  const problems: string[] = [];

  setUpSuite(async (defer) => {
    const tmp = makeTempDir('sutazai-e2e-support-');
    defer(tmp.remove);
    dir = tmp.path;
    const dataDir = path.join(dir, 'data');
    const store = openStore({ dataDir });
    try {
      addStandInHost(store.db, HOST, '198.18.252.9');
    } finally {
      store.close();
    }
    // What an earlier run of the app logged about the host, secrets and all (as a careless program would).
    fs.mkdirSync(path.join(dataDir, 'logs'), { recursive: true });
    const line = (msg: string) => `${JSON.stringify({ level: 30, time: Date.now(), host: HOST, msg })}\n`;
    fs.writeFileSync(
      path.join(dataDir, 'logs', 'control-center.log'),
      [
        line(`login to ${HOST} with password=${SECRETS.password}`),
        line(`calling ${HOST}: Authorization: Bearer ${SECRETS.bearer}`),
        line(`key for ${HOST}: -----BEGIN PRIVATE KEY-----\n${SECRETS.key}\n-----END PRIVATE KEY-----`),
        line(`${HOST} belongs to ${SECRETS.customer}`),
      ].join(''),
      { mode: 0o600 },
    );
    // A bundle from a site where agent-2 crash-loops, to analyze.
    await writeSupportArchive(
      path.join(dir, 'site.tar'),
      {
        targetName: 'site',
        collectedAtMs: Date.now(),
        versions: { 'control-center': '0.1.0' },
        redaction: { addresses: false, hostNames: false, rules: [], countsByRule: {} },
        gaps: [],
      },
      [
        {
          path: 'hosts/b4/events.json',
          text: JSON.stringify([
            {
              kind: 'process.crash-loop',
              instance: 'agent-2',
              process: 'agent',
              atMs: 1,
              message: '',
              lastLines: ['{"level":"error","msg":"cannot serve health","port":7711}'],
            },
          ]),
        },
      ],
    );
    const session = await openWebModeSession({ dataDir, problems });
    defer(session.close);
    ({ page, url } = session);
  });

  it('collects a host, lists each planted secret (file, line, rule) masked, and says what it could not reach', async () => {
    await gotoPage(page, url, { waitUntil: 'load' });
    await page.getByRole('link', { name: 'Support', exact: true }).click();
    await page.getByTestId('support-page').waitFor({ state: 'visible' });
    await page.getByTestId('support-target').selectOption({ label: HOST });
    await page.getByTestId('support-collect-button').click();
    await page.getByTestId('support-preview').waitFor({ state: 'visible' });
    const rows = page.locator('[data-testid="support-preview"] tbody tr');
    const described = () =>
      rows.evaluateAll((trs) =>
        (trs as HTMLTableRowElement[]).map((tr) => [tr.getAttribute('data-file'), tr.cells[1]!.textContent, tr.getAttribute('data-rule')]),
      );
    await expect(described()).resolves.toEqual([
      ['control-center/control-center.log', '1', 'built-in:password'],
      ['control-center/control-center.log', '2', 'built-in:token'],
      ['control-center/control-center.log', '3', 'built-in:private-key'],
    ]);
    const text = (await page.getByTestId('support-review').textContent()) ?? '';
    for (const secret of [SECRETS.password, SECRETS.bearer, SECRETS.key]) expect(text).not.toContain(secret);
    expect(text).toContain('characters)');
    // The stand-in host answers nothing: its runtime is not asked (no install), and it was never probed.
    await expect(page.getByTestId('support-gaps').textContent()).resolves.toContain(`${HOST}: never probed, so no facts`);
    await shoot(page, 'support-preview', { fullPage: true });
  });

  it('replaces host names on request and adds a rule of its own, each listed', async () => {
    await page.getByTestId('support-host-names').check();
    await page.getByTestId('support-rule-name').fill('customer');
    await page.getByTestId('support-rule-pattern').fill(SECRETS.customer);
    await page.getByTestId('support-rule-add').click();
    const rules = page.locator('[data-testid="support-preview"] tbody tr');
    await expect
      .poll(() => rules.evaluateAll((trs) => [...new Set(trs.map((tr) => tr.getAttribute('data-rule')))].sort()))
      .toEqual(['built-in:password', 'built-in:private-key', 'built-in:token', 'customer', 'host-names']);
    await expect(page.locator('[data-rule="host-names"]').first().textContent()).resolves.toContain('host-1');
    // Only the rule itself names the customer; the preview shows it masked.
    await expect(page.getByTestId('support-preview').textContent()).resolves.not.toContain(SECRETS.customer);
    await expect(page.getByTestId('support-gaps').textContent()).resolves.toContain('host-1: never probed, so no facts');
  });

  it('downloads the bundle as previewed through the browser (web mode names no path): none of the secrets, the host name or the customer in it, served once', async () => {
    // Web mode offers no path on the backend's machine: the page has no path field for the bundle.
    expect(await page.getByTestId('support-save-path').count()).toBe(0);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('support-download').click()]);
    const out = path.join(dir, 'downloaded.tar');
    await download.saveAs(out);
    await expect(page.getByTestId('support-saved').textContent()).resolves.toContain(`Downloaded ${download.suggestedFilename()}`);
    expect(download.suggestedFilename()).toMatch(/^sutazai-support-[0-9a-f]{12}\.tar$/);
    const bytes = fs.readFileSync(out);
    for (const secret of [...Object.values(SECRETS), HOST]) expect(bytes.includes(secret), secret).toBe(false);
    expect(bytes.includes('hosts/host-1/host.json')).toBe(true);
    expect(bytes.includes('[redacted:customer]')).toBe(true);
    // Nothing is left on the backend's machine once the browser has it.
    await expect
      .poll(() => fs.readdirSync(path.join(dir, 'data', 'downloads'), { recursive: true }).filter((n) => String(n).endsWith('.tar')))
      .toEqual([]);
    await shoot(page, 'support-downloaded', { fullPage: true });
  });

  it("analyzes another site's bundle: the crash-loop, its last line and the remedy", async () => {
    await page.getByTestId('support-analyze-file').setInputFiles(path.join(dir, 'site.tar'));
    await page.getByTestId('support-analyze-button').click();
    const finding = page.locator('[data-analyzer="crash-loop"]');
    await expect(finding.getAttribute('data-severity')).resolves.toBe('critical');
    await expect(finding.textContent()).resolves.toContain('agent-2 on b4 entered crash-loop 1 time; its last lines say:');
    await expect(finding.textContent()).resolves.toContain('Remedy: ');
    await shoot(page, 'support-analysis', { fullPage: true });
    expect(problems).toEqual([]);
    expect(await cspViolations(page)).toEqual([]);
  });

  it('refuses a path on the backend machine from the browser page (web mode), before reading it', async () => {
    const answer = await page.evaluate(async () => {
      // The page's own API socket: what a script on the page could send.
      const token = sessionStorage.getItem('sutazai.accessToken')!;
      const socket = new WebSocket(`ws://${location.host}/api`, ['sutazai.api.v1', `sutazai.token.${token}`]);
      await new Promise((resolve) => socket.addEventListener('open', resolve));
      const reply = new Promise<string>((resolve) => socket.addEventListener('message', (event) => resolve(String(event.data))));
      socket.send(JSON.stringify({ type: 'request', id: 1, method: 'support.analyze', params: { path: '/etc/passwd' } }));
      return JSON.parse(await reply) as { ok: boolean; error: { code: string } };
    });
    expect(answer).toMatchObject({ ok: false, error: { code: 'METHOD_NOT_ON_THIS_PIPE' } });
  });
});
