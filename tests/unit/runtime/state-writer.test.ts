import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyState, loadState, type RuntimeState } from '../../../agents-runtime/src/process/state-file';
import { StateWriter } from '../../../agents-runtime/src/process/state-writer';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const dirs: Array<{ remove(): void }> = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));
function tempDir(): string {
  const d = makeTempDir('sutazai-state-writer-');
  dirs.push(d);
  return d.path;
}
const waitFor = makeWaitFor({ timeoutMs: 10_000, pollMs: 5 });

/** A writer over a state the test changes, counting how often a save read it. */
function writerFor(file: string): { writer: StateWriter; state: RuntimeState; reads: () => number; failures: unknown[] } {
  const state = emptyState();
  let reads = 0;
  const failures: unknown[] = [];
  const writer = new StateWriter({
    file,
    current: () => {
      reads += 1;
      return structuredClone(state);
    },
    debounceMs: 5,
    onFailure: (error) => failures.push(error),
  });
  return { writer, state, reads: () => reads, failures };
}

describe('state writer', () => {
  it('a burst of requests is one save of the newest state; a request with nothing changed writes nothing', async () => {
    const file = path.join(tempDir(), 'state.json');
    const { writer, state, reads } = writerFor(file);
    for (let i = 1; i <= 10; i += 1) {
      state.instances[`agent-${i}`] = { pid: 100 + i, startTime: `b:${i}` };
      writer.request();
    }
    await waitFor('the save', () => fs.existsSync(file));
    expect(reads()).toBe(1);
    expect(Object.keys(loadState(file).state.instances)).toHaveLength(10);

    const inode = fs.statSync(file).ino;
    writer.request();
    await waitFor('the second request to read the state', () => reads() === 2);
    expect(fs.statSync(file).ino).toBe(inode); // not written again (a save renames a new file in)
    expect(fs.readdirSync(path.dirname(file))).toEqual(['state.json']);
  });

  it('flush() writes the given state after the save in flight and resolves once it is on disk', async () => {
    const file = path.join(tempDir(), 'state.json');
    const { writer, state } = writerFor(file);
    state.instances['core'] = { pid: 7, startTime: 'b:7' };
    writer.request();
    await writer.flush({ ...emptyState(), intent: { stopped: ['core'], replicas: {} } });
    expect(loadState(file).state).toEqual({ ...emptyState(), intent: { stopped: ['core'], replicas: {} } });
    writer.close();
    writer.request(); // closed: no save any more
    await new Promise((r) => setTimeout(r, 20));
    expect(loadState(file).state.instances).toEqual({});
  });

  it('reports a failing save once per episode, and a later success ends the episode', async () => {
    const dir = tempDir();
    const blocker = path.join(dir, 'not-a-dir');
    fs.writeFileSync(blocker, '');
    const file = path.join(blocker, 'state.json'); // its directory is a file: every save fails
    const { writer, failures } = writerFor(file);
    await writer.flush();
    await writer.flush();
    expect(failures).toHaveLength(1);
    fs.rmSync(blocker);
    await writer.flush();
    expect(loadState(file).problem).toBeUndefined();
    expect(fs.existsSync(file)).toBe(true);
    fs.rmSync(blocker, { recursive: true });
    fs.writeFileSync(blocker, '');
    await writer.flush();
    expect(failures).toHaveLength(2);
  });
});
