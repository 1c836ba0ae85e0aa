import type { Action } from '../../../electron/contract';

/** An action as words: `manage-hosts` reads "manage hosts". */
export function actionWords(action: Action): string {
  return action.replace(/-/g, ' ');
}

/**
 * A method as words, its group first: `hosts.importKnownHosts` reads "hosts · import known
 * hosts". The page names what was done, not the API it was done through.
 */
export function methodWords(method: string): string {
  const [group = '', name = ''] = method.split('.', 2);
  return `${group} · ${name.replace(/([A-Z])/g, ' $1').toLowerCase()}`;
}
