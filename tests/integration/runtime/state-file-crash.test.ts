import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadState } from '../../../agents-runtime/src/process/state-file';
import { makeTempDir } from '../../support/temp-dir';

const root = path.resolve(import.meta.dirname, '../../..');
const tmp = makeTempDir('sutazai-state-crash-');
afterAll(() => tmp.remove());

// A writer that saves ever-changing, large states as fast as it can, killed with SIGKILL
// at varied moments: every time, the file must load as one complete state.
const writer = `
import { saveState } from './agents-runtime/src/process/state-file';
const file = process.argv[1];
for (let i = 0; ; i += 1) {
  const instances = {};
  for (let j = 0; j < 2000; j += 1) instances['agent-' + j] = { pid: i + 1, startTime: 'boot:' + i };
  await saveState(file, { version: 1, intent: { stopped: [], replicas: { agent: i } }, instances });
  if (i === 0) process.stdout.write('saved\\n');
}
`;

describe('state file under a crash', () => {
  it('a writer killed mid-save always leaves a complete, loadable file', async () => {
    const file = path.join(tmp.path, 'state.json');
    for (let round = 0; round < 6; round += 1) {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', writer, file], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      try {
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error('writer did not start')), 20_000);
          child.stdout!.once('data', () => {
            clearTimeout(t);
            resolve();
          });
        });
        await new Promise((r) => setTimeout(r, 20 + round * 37));
      } finally {
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
      }
      const { state, problem } = loadState(file);
      expect(problem).toBeUndefined();
      const pids = new Set(Object.values(state.instances).map((e) => e.pid));
      expect(pids.size).toBe(1); // all entries from the same save
      expect(Object.keys(state.instances)).toHaveLength(2000);
    }
  });
});
