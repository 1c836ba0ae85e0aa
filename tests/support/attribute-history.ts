import type { Page } from 'playwright-core';

/**
 * Records in the page every value `attribute` takes on the elements whose data-testid is
 * `testId`, per element (named by its `key` attribute), repeats folded: each state a row
 * showed, in order, as the page rendered it. Answers a reader of what was seen so far.
 * A reload of the page ends the record.
 */
export async function recordAttributeHistory(
  page: Page,
  options: { testId: string; key: string; attribute: string },
): Promise<() => Promise<Record<string, string[]>>> {
  const slot = `__history_${options.testId}_${options.attribute}`.replace(/[^A-Za-z0-9_]/g, '_');
  await page.evaluate(
    ({ testId, key, attribute, slot }) => {
      const seen: Record<string, string[]> = {};
      (window as unknown as Record<string, unknown>)[slot] = seen;
      const selector = `[data-testid="${testId}"]`;
      const note = (el: Element) => {
        const name = el.getAttribute(key) ?? '?';
        const value = el.getAttribute(attribute) ?? '?';
        const list = (seen[name] ??= []);
        if (list[list.length - 1] !== value) list.push(value);
      };
      new MutationObserver((records) => {
        for (const record of records) {
          const target = record.target as Element;
          if (target.nodeType !== 1) continue;
          if (target.matches?.(selector)) note(target);
          target.querySelectorAll?.(selector).forEach(note);
        }
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: [attribute] });
    },
    { ...options, slot },
  );
  return () => page.evaluate((name) => (window as unknown as Record<string, Record<string, string[]>>)[name] ?? {}, slot);
}
