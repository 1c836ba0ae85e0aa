/**
 * The runtime under fire, bounded for CI (issue 13, item 4; tests/support/runtime-chaos/run-chaos.ts
 * says what is done and why it waits where it does): about 90 s of random kill -9 of
 * instances, of their groups and of the daemon, hangs (SIGSTOP) caught by a health check,
 * manifest updates and scales, the log disk (a tmpfs, so root) filled and freed, and a
 * process flooding ~50 MB/s in bursts. The run ends in a state, and that state is judged:
 * the manifest's instances each once, restart counts equal to the kills, nothing orphaned or
 * hung, one log collector, the log directory within its caps, dropped lines counted, the
 * daemon's RSS bounded. The seed is printed; CHAOS_SEED=<seed> replays its choices.
 * The long run: `npm run chaos:runtime -- --minutes 10`.
 */
import { describe, expect, it } from 'vitest';
import { chaosViolations, formatChaosReport } from '../../support/runtime-chaos/chaos-report';
import { CHAOS_ACTIONS, CHAOS_SETTINGS, runRuntimeChaos } from '../../support/runtime-chaos/run-chaos';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('runtime chaos (bundled daemon, log collector, tmpfs log disk, root)', () => {
  it('ends with the manifest running once, every kill counted, no orphan, logs within caps, drops counted, RSS bounded', async () => {
    const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
    const report = await runRuntimeChaos({ ...CHAOS_SETTINGS, durationMs: 90_000, seed });
    const summary = `${formatChaosReport(report)}\ntimeline:\n${report.timeline.join('\n')}`;
    console.log(summary);
    expect(chaosViolations(report), summary).toEqual([]);
    // Every kind of chaos happened (the actions come in decks holding each), so the state judged is one that lived through them.
    for (const action of CHAOS_ACTIONS) expect(report.actions[action], `${action} never happened (seed ${seed})`).toBeGreaterThan(0);
    expect(report.restartsCaused).toBeGreaterThan(0);
    expect(report.dropped.counted).toBeGreaterThan(0);
  }, 300_000);
});
