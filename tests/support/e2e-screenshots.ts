import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

/** Where the e2e tests leave their screenshots (ignored by git), for a person to look at. */
export const E2E_ARTIFACTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../artifacts/e2e');

/** Saves what `page` shows as artifacts/e2e/<name>.png; the whole page with `fullPage`. */
export async function shoot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<void> {
  mkdirSync(E2E_ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: path.join(E2E_ARTIFACTS_DIR, `${name}.png`), fullPage: options.fullPage ?? false });
}
