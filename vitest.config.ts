import { defineConfig } from 'vitest/config';

// One runner for every layer of tests; `npm test` runs all three projects.
export default defineConfig({
  test: {
    // Two test files at a time even on two cores (Vitest's default is cores - 1, one here):
    // integration and e2e files spend most of their time waiting on SSH handshakes, child
    // processes and Chromium, and every shared resource is per run (test hosts get their own
    // namespaces, addresses and directories; servers listen on port 0, browsers get their own
    // profiles), so two overlap safely. The e2e files share the two workers with the others:
    // run apart, one at a time, after them, they kept the second core idle for 15 minutes.
    maxWorkers: 2,
    // dist/ built once before any file, not by two files' servers at once.
    globalSetup: ['tests/support/build-before-tests.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 10_000,
          // The unit files share their workers' module caches instead of a fresh process each: 232 files
          // took 159 s alone isolated and 71 s not (quiet machine), most of it spent importing the same
          // modules again. They keep no state between files (they pass in shuffled orders as well).
          isolate: false,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 180_000,
          pool: 'forks',
        },
      },
    ],
  },
});
