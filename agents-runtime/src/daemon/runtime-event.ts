/** One entry of the daemon's event feed (watchEvents): process state changes, exits, manifest updates. */
import type { ErrorInfo } from '../runtime-error';
import type { State } from '../supervisor/states';

export interface RuntimeEvent {
  atMs: number;
  /** Dotted kind, e.g. process.state, process.exit, manifest.updated. */
  kind: string;
  process: string | null;
  instance: string | null;
  /** For process.state: the state entered. */
  state: State | null;
  message: string;
  error: ErrorInfo | null;
}
