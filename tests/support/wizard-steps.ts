import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';

/** The install wizard (renderer/src/wizard) as its e2e tests walk it, step by step. */

/** The wizard, once it shows `step`. */
export function wizardAt(page: Page, step: string): Locator {
  return page.locator(`[data-testid="install-wizard"][data-step="${step}"]`);
}

/** Clicks Next, which must be enabled, and waits for the wizard to show `to`. */
export async function next(page: Page, to: string): Promise<void> {
  const button = page.getByTestId('wizard-next');
  await expect(button.isEnabled()).resolves.toBe(true);
  await button.click();
  await wizardAt(page, to).waitFor({ state: 'visible' });
}
