import path from 'node:path';
import Database from 'better-sqlite3';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { shoot } from '../support/e2e-screenshots';
import { setUpSuite } from '../support/suite-set-up';
import { makeTempDir } from '../support/temp-dir';
import { openWebModeSession } from '../support/web-mode-session';
import { gotoPage } from '../support/chromium';

/**
 * A host's facts as a hostile host would write them, shown by the host page in Debian's
 * Chromium: every escape sequence and bidi control is visible text (`\x1b`, `\u202e`),
 * none is in the page as the character itself. The snapshot is written into the store
 * raw, as a release before the probe parser escaped them would have stored it, so this
 * holds for old facts as well as new ones.
 */

const OSC52 = '\x1b]52;c;cm0gLXJmIH4K\x07';
const TITLE = '\x1b]0;owned\x07';
const RLO = '\u202e';
const C1_CSI = '\u009b31m';
// eslint-disable-next-line no-control-regex -- the characters a page must never carry from a host
const HIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

describe('a hostile host on its page', () => {
  let page: Page;
  let url = '';
  let hostId = 0;
  const problems: string[] = [];

  setUpSuite(async (defer) => {
    const dataDir = makeTempDir('sutazai-e2e-hostile-');
    defer(dataDir.remove);
    const session = await openWebModeSession({ dataDir: dataDir.path, problems });
    defer(session.close);
    ({ page, url } = session);
    await gotoPage(page, url, { waitUntil: 'load' });
    await page.locator('[data-testid="host-row"][data-host-name="local"]').waitFor({ state: 'visible' });

    const db = new Database(path.join(dataDir.path, 'sutazai.db'));
    try {
      db.pragma('busy_timeout = 10000');
      const row = db
        .prepare(
          "SELECT s.host_id AS hostId, s.facts FROM facts_snapshots s JOIN hosts h ON h.id = s.host_id WHERE h.kind = 'local' ORDER BY s.probed_at DESC LIMIT 1",
        )
        .get() as { hostId: number; facts: string };
      hostId = row.hostId;
      const facts = JSON.parse(row.facts);
      facts.os.hostname = `lab${TITLE}`;
      facts.disks = [{ device: '/dev/sdz', model: `disk${OSC52}${C1_CSI}`, type: 'SSD', sizeBytes: 1024 ** 4, rotational: false }];
      facts.network = [...(facts.network ?? []), { name: `eth${RLO}1`, mac: '', addresses: [], internal: false, speedMbps: null }];
      facts.unknown = [...facts.unknown, { field: 'gpus', reason: `nvidia-smi said: ${TITLE}${RLO}` }];
      // Newer than anything the server's own probes store while the test runs.
      facts.probedAt = Date.now() + 86_400_000;
      db.prepare('INSERT INTO facts_snapshots (host_id, probed_at, facts) VALUES (?, ?, ?)').run(
        hostId,
        facts.probedAt,
        JSON.stringify(facts),
      );
    } finally {
      db.close();
    }
  });

  it('shows escape sequences and bidi controls as visible escapes, never as the characters', async () => {
    await gotoPage(page, `${url}#/hosts/${hostId}`, { waitUntil: 'load' });
    await page.getByText('disk\\x1b]52;c;cm0gLXJmIH4K\\x07\\x9b31m').waitFor({ state: 'visible' });
    await expect(page.getByText('lab\\x1b]0;owned\\x07').count()).resolves.toBeGreaterThan(0);
    await expect(page.getByText('eth\\u202e1').count()).resolves.toBe(1);
    await expect(page.getByText('nvidia-smi said: \\x1b]0;owned\\x07\\u202e').count()).resolves.toBe(1);
    const text = await page.evaluate(() => document.body.innerText + document.title);
    expect(text).not.toMatch(HIDDEN);
    await shoot(page, 'host-page-hostile-facts', { fullPage: true });
    expect(problems).toEqual([]);
  });
});
