import { describe, expect, it } from 'vitest';
import type { ProcessStatus__Output } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/ProcessStatus';
import { judgeProcesses } from '../../../electron/backend/install/health/wait-healthy';

type State = ProcessStatus__Output['instances'][number]['state'];

function process(name: string, states: State[], lastError?: string): ProcessStatus__Output {
  return {
    name,
    replicas: states.length,
    instances: states.map((state, i) => ({
      instance: `${name}-${i + 1}`,
      state,
      pid: 100 + i,
      restarts: 0,
      startedAtMs: '0',
      exitCode: 0,
      _exitCode: 'exitCode',
      lastError: lastError ? { code: 'EXITED', message: lastError, remedy: '' } : null,
    })),
  } as ProcessStatus__Output;
}

const expected = [
  { name: 'core', replicas: 1 },
  { name: 'agent', replicas: 2 },
];

describe("the health gate's verdict", () => {
  it('is healthy only when every expected process has all its replicas running', () => {
    expect(
      judgeProcesses(
        [process('core', ['PROCESS_STATE_RUNNING']), process('agent', ['PROCESS_STATE_RUNNING', 'PROCESS_STATE_RUNNING'])],
        expected,
      ),
    ).toEqual({
      healthy: true,
      summary: 'core running 1/1, agent running 2/2',
      failing: [],
    });
  });

  it('says which instance is not running yet, and why where the runtime knows', () => {
    const verdict = judgeProcesses(
      [
        process('core', ['PROCESS_STATE_RUNNING']),
        process('agent', ['PROCESS_STATE_RUNNING', 'PROCESS_STATE_BACKOFF'], 'exited with code 1'),
      ],
      expected,
    );
    expect(verdict).toEqual({
      healthy: false,
      summary: 'core running 1/1, agent running 1/2: agent-2 backoff (exited with code 1)',
      failing: ['agent-2'],
    });
  });

  it('is not healthy with a process missing or too few instances', () => {
    expect(judgeProcesses([process('core', ['PROCESS_STATE_RUNNING'])], expected)).toEqual({
      healthy: false,
      summary: 'core running 1/1, agent missing',
      failing: ['agent'],
    });
    expect(
      judgeProcesses([process('core', ['PROCESS_STATE_RUNNING']), process('agent', ['PROCESS_STATE_RUNNING'])], expected).healthy,
    ).toBe(false);
  });

  it('names the likeliest culprit first: what crashed, then what is still starting, then what waits', () => {
    const verdict = judgeProcesses(
      [
        process('core', ['PROCESS_STATE_STARTING']),
        process('agent', ['PROCESS_STATE_STOPPED', 'PROCESS_STATE_CRASH_LOOP'], 'exited with code 1'),
      ],
      expected,
    );
    expect(verdict.failing).toEqual(['agent-2', 'core-1', 'agent-1']);
  });
});
