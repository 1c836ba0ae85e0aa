import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyState, loadState, saveState } from '../../../agents-runtime/src/process/state-file';
import { makeTempDir } from '../../support/temp-dir';

const dirs: Array<{ remove(): void }> = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));
function tempFile(): string {
  const d = makeTempDir('sutazai-state-');
  dirs.push(d);
  return path.join(d.path, 'state.json');
}

describe('state file', () => {
  it('round-trips intent and instances; a missing file is a fresh start', async () => {
    const file = tempFile();
    expect(loadState(file)).toEqual({ state: emptyState() });
    const state = {
      version: 1 as const,
      intent: { stopped: ['agent-2'], replicas: { agent: 3 } },
      instances: { core: { pid: 10, startTime: 'b:1' } },
    };
    await saveState(file, state);
    expect(loadState(file)).toEqual({ state });
    expect(fs.readdirSync(path.dirname(file))).toEqual(['state.json']); // no temp file left
  });

  it('keeps restart counts (crash and operator) across a daemon restart; a negative or fractional count is a corrupt file', async () => {
    const file = tempFile();
    const state = { ...emptyState(), restarts: { 'agent-1': 4 }, operatorRestarts: { 'agent-1': 2, core: 1 } };
    await saveState(file, state);
    expect(loadState(file)).toEqual({ state });
    fs.writeFileSync(file, JSON.stringify({ ...emptyState(), restarts: { 'agent-1': -1 } }));
    expect(loadState(file).problem?.message).toContain('restarts.agent-1 must be a whole number');
    fs.writeFileSync(file, JSON.stringify({ ...emptyState(), operatorRestarts: { core: 1.5 } }));
    expect(loadState(file).problem?.message).toContain('operatorRestarts.core must be a whole number');
  });

  it('moves a corrupt file aside and reports STATE_FILE_INVALID with a remedy', () => {
    const file = tempFile();
    fs.writeFileSync(file, '{"version":1,"intent":{"stopped":[3]');
    const { state, problem } = loadState(file, new Date('2025-05-03T10:00:00Z'));
    expect(state).toEqual(emptyState());
    expect(problem?.code).toBe('STATE_FILE_INVALID');
    expect(problem?.remedy).toContain('.corrupt-2025-05-03T10-00-00-000Z');
    expect(fs.existsSync(`${file}.corrupt-2025-05-03T10-00-00-000Z`)).toBe(true);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('rejects well-formed JSON of the wrong shape', () => {
    const file = tempFile();
    fs.writeFileSync(file, JSON.stringify({ version: 1, intent: { stopped: [], replicas: { a: -1 } }, instances: {} }));
    expect(loadState(file).problem?.message).toMatch(/replicas\.a/);
  });
});
