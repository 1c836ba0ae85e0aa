import type { RuntimeEvent__Output } from '../../../../agents-runtime/src/wire';
import type { LinkTarget } from '../link/link-types';
import type { FleetEventRow, RuntimeEventCursor } from './fleet-events-repo';

/** What a crash carries at most: the runtime sends 20 lines of up to 500 characters. */
const MAX_LAST_LINES = 20;
const MAX_LINE_CHARS = 500;
/** A message is one line of text; a runtime's crash message repeats its lines, which are kept apart. */
const MAX_MESSAGE_CHARS = 2000;
const LINES_IN_MESSAGE = '\nlast log lines:\n';

/** The runtime's states on the wire (`PROCESS_STATE_CRASH_LOOP`) as the contract names them (`crash-loop`). */
function stateName(wire: string): string | null {
  if (!wire.startsWith('PROCESS_STATE_') || wire === 'PROCESS_STATE_UNSPECIFIED') return null;
  return wire.slice('PROCESS_STATE_'.length).toLowerCase().replace(/_/g, '-');
}

function cap(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** A runtime's event as the store keeps it, with the identity that makes a repeat a repeat. */
export function runtimeEventRow(target: LinkTarget, event: RuntimeEvent__Output): { row: FleetEventRow; cursor: RuntimeEventCursor } {
  const atMs = Number(event.atMs);
  const runStartedAtMs = Number(event.runStartedAtMs);
  const sequence = Number(event.sequence);
  const lastLines = event.lastLines.slice(-MAX_LAST_LINES).map((line) => cap(line, MAX_LINE_CHARS));
  const cut = lastLines.length > 0 ? event.message.indexOf(LINES_IN_MESSAGE) : -1;
  const message = cap(cut >= 0 ? event.message.slice(0, cut) : event.message, MAX_MESSAGE_CHARS);
  const error = event.error === null || event.error.code === '' ? null : { ...event.error };
  return {
    row: {
      atMs,
      kind: event.kind,
      origin: 'runtime',
      installName: target.installName,
      hostId: target.hostId,
      hostName: target.hostName,
      process: event.process === '' ? null : event.process,
      instance: event.instance === '' ? null : event.instance,
      state: stateName(event.state),
      message,
      error: error === null ? null : { code: error.code, message: error.message, remedy: error.remedy },
      lastLines,
      actor: null,
      dedupKey: `runtime:${target.hostId}:${runStartedAtMs}:${sequence}`,
    },
    cursor: { runStartedAtMs, sequence, atMs },
  };
}
