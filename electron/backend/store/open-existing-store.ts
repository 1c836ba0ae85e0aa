import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../contract';
import { openStore, type Store } from './open-store';

/**
 * Opens the store of a data directory that must hold one already. A command that acts on an
 * existing control center (break-glass, web mode's certificate from an install) must never
 * create a fresh, empty store where a mistyped --data-dir (or another account's default one)
 * points: it would report success on a database nobody uses. `what` names the command.
 */
export function openExistingStore(dataDir: string, what: string, remedy: string): Store {
  const folder = path.resolve(dataDir);
  const file = path.join(folder, 'sutazai.db');
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat?.isFile())
    throw new ApiError('NOT_FOUND', `There is no control center in ${folder} (no sutazai.db): ${what} changed nothing.`, remedy);
  return openStore({ dataDir: folder });
}
