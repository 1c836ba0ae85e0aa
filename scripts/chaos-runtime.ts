// `npm run chaos:runtime -- --minutes 10 [--seed N] [--pause-ms 2500]`: the runtime chaos
// run of tests/integration/runtime/chaos.test.ts for as long as asked (issue 13, item 4),
// printing each action and answer as it happens, then the figures (kills, restarts, dropped
// lines, the daemon's RSS by minute) and the verdict; the whole record as JSON into
// chaos-runtime-<seed>.json in the temp dir. Needs root (it mounts a tmpfs for the log disk).
// Exits 0 when the runtime held, 1 when it did not, 2 on a usage error.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const minutes = Number(flag('minutes', '10'));
const seed = Number(flag('seed', String(Date.now() % 1_000_000)));
const pauseMs = Number(flag('pause-ms', '2500'));
if (!(minutes > 0) || !Number.isInteger(seed) || !(pauseMs > 0)) {
  console.error('usage: npm run chaos:runtime -- [--minutes 10] [--seed N] [--pause-ms 2500]');
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error('error: the chaos run mounts a tmpfs for the log disk, which needs root.');
  console.error('Remedy: sudo npm run chaos:runtime -- --minutes 10');
  process.exit(2);
}

// The test harness finds the checkout from __dirname, which tsx does not define in this ESM package.
const here = path.dirname(fileURLToPath(import.meta.url));
(globalThis as { __dirname?: string }).__dirname ??= path.join(here, '..', 'tests', 'support');
const { CHAOS_SETTINGS, runRuntimeChaos } = await import('../tests/support/runtime-chaos/run-chaos');
const { chaosViolations, formatChaosReport } = await import('../tests/support/runtime-chaos/chaos-report');

console.log(`chaos:runtime: ${minutes} min, seed ${seed} (replay with --seed ${seed})`);
const report = await runRuntimeChaos({
  ...CHAOS_SETTINGS,
  durationMs: minutes * 60_000,
  seed,
  meanPauseMs: pauseMs,
  progress: (line) => console.log(line),
});
const file = path.join(os.tmpdir(), `chaos-runtime-${seed}.json`);
fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\n${formatChaosReport(report)}\nrecord: ${file}`);
process.exit(chaosViolations(report).length === 0 ? 0 : 1);
