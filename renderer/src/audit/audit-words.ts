import { isLocalAuditMethod, LOCAL_AUDIT_METHODS, type Action } from '../../../electron/contract';

/** An action as words: `manage-hosts` reads "manage hosts". */
export function actionWords(action: Action): string {
  return action.replace(/-/g, ' ');
}

/**
 * A method as words, its group first: `hosts.importKnownHosts` reads "hosts · import known
 * hosts". The page names what was done, not the API it was done through; an action taken on the
 * machine outside the API (LOCAL_AUDIT_METHODS) reads as the contract words it.
 */
export function methodWords(method: string): string {
  // Taken on the machine, not through the API: their own words (the contract's list), never split as a method.
  if (isLocalAuditMethod(method)) return LOCAL_AUDIT_METHODS[method].words;
  const [group = '', name = ''] = method.split('.', 2);
  return `${group} · ${name.replace(/([A-Z])/g, ' $1').toLowerCase()}`;
}
