import { afterAll, beforeAll } from 'vitest';
import { createTestLab, type TestLab } from './test-hosts';

/**
 * A lab for one test file: created in beforeAll, destroyed in afterAll.
 *
 *   const labRef = useTestLab();
 *   it('...', async () => { const host = await labRef.lab.addSshHost(); ... });
 */
export function useTestLab(): { readonly lab: TestLab } {
  let lab: TestLab | undefined;
  beforeAll(async () => {
    lab = await createTestLab();
  });
  afterAll(async () => {
    await lab?.destroy();
  });
  return {
    get lab(): TestLab {
      if (lab === undefined) throw new Error('useTestLab: the lab exists only inside tests (after beforeAll)');
      return lab;
    },
  };
}
