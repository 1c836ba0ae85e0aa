import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RuntimeError } from '../../../agents-runtime/src/runtime-error';
import { EVENT_KINDS, nextState, STATES, TRANSITIONS, type EventKind, type State } from '../../../agents-runtime/src/supervisor/states';

/**
 * The documented paths, written out independently of the table: "from --event--> to".
 * Adding or removing a transition must change this list (and the comment in states.ts).
 */
const ALLOWED = `
  stopped    --start--> starting
  stopped    --restart--> starting
  starting   --healthy--> running
  starting   --retry--> backoff
  starting   --exit--> exited
  starting   --crash-loop--> crash-loop
  starting   --unhealthy--> stopping
  starting   --stop--> stopping
  starting   --restart--> stopping
  running    --retry--> backoff
  running    --exit--> exited
  running    --crash-loop--> crash-loop
  running    --unhealthy--> stopping
  running    --stop--> stopping
  running    --restart--> stopping
  backoff    --wait-elapsed--> starting
  backoff    --start--> starting
  backoff    --restart--> starting
  backoff    --stop--> stopped
  crash-loop --wait-elapsed--> starting
  crash-loop --start--> starting
  crash-loop --restart--> starting
  crash-loop --stop--> stopped
  stopping   --stop-done--> stopped
  stopping   --restart-ready--> starting
  stopping   --retry--> backoff
  stopping   --exit--> exited
  stopping   --crash-loop--> crash-loop
  exited     --start--> starting
  exited     --restart--> starting
  exited     --stop--> stopped
`
  .trim()
  .split('\n')
  .map((line) => {
    const match = /^\s*(\S+)\s+--(\S+)-->\s+(\S+)$/.exec(line);
    if (match === null) throw new Error(`bad line: ${line}`);
    return { from: match[1] as State, event: match[2] as EventKind, to: match[3] as State };
  });

describe('TRANSITIONS', () => {
  it('holds exactly the documented paths', () => {
    const inTable = STATES.flatMap((from) => Object.entries(TRANSITIONS[from]).map(([event, to]) => `${from} --${event}--> ${to}`)).sort();
    expect(inTable).toEqual(ALLOWED.map((t) => `${t.from} --${t.event}--> ${t.to}`).sort());
  });

  it('documents every transition in the comment above the table', () => {
    const source = fs.readFileSync(path.resolve('agents-runtime/src/supervisor/states.ts'), 'utf8');
    const doc = source.slice(0, source.indexOf('export const TRANSITIONS'));
    for (const { event } of ALLOWED) expect(doc).toContain(event);
    for (const state of STATES) expect(doc).toMatch(new RegExp(`^ \\* ${state}\\s+—`, 'm'));
  });

  it('answers nextState for every allowed path and throws INTERNAL for every other pair', () => {
    const allowed = new Map(ALLOWED.map((t) => [`${t.from}/${t.event}`, t.to]));
    let refused = 0;
    for (const from of STATES) {
      for (const event of EVENT_KINDS) {
        const to = allowed.get(`${from}/${event}`);
        if (to !== undefined) {
          expect(nextState(from, event)).toBe(to);
        } else {
          refused += 1;
          expect(() => nextState(from, event)).toThrow(RuntimeError);
          expect(() => nextState(from, event)).toThrow(`no transition from state "${from}" on event "${event}"`);
        }
      }
    }
    expect(refused).toBe(STATES.length * EVENT_KINDS.length - ALLOWED.length);
  });

  it('lets the operator reach stopped from every state, and every state be left', () => {
    const reachable = (start: State): Set<State> => {
      const seen = new Set<State>([start]);
      const queue = [start];
      while (queue.length > 0) {
        const state = queue.shift() as State;
        for (const to of Object.values(TRANSITIONS[state])) {
          if (to !== undefined && !seen.has(to)) {
            seen.add(to);
            queue.push(to);
          }
        }
      }
      return seen;
    };
    for (const state of STATES) {
      expect(reachable(state).has('stopped'), state).toBe(true);
      expect(Object.keys(TRANSITIONS[state]).length, state).toBeGreaterThan(0);
    }
    // Unlike supervisord's FATAL, crash-loop retries on its own.
    expect(TRANSITIONS['crash-loop']['wait-elapsed']).toBe('starting');
  });

  it('never lets a state without a process (backoff, crash-loop, exited, stopped) stop into stopping', () => {
    for (const state of ['backoff', 'crash-loop', 'exited', 'stopped'] as const) {
      expect(Object.values(TRANSITIONS[state])).not.toContain('stopping');
    }
  });
});
