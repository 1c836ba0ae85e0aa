/**
 * The actions access policies and the audit log name (issue 14), as pure data that imports
 * nothing: the control center's contract (method-actions.ts, bundled into the renderer) and
 * the runtime's policy evaluator read the one list. The first group are the runtime actions
 * a policy names; the rest are the control center's own.
 */
export const ACTIONS = [
  'view',
  'logs',
  'control',
  'scale',
  'manifest',
  'install',
  'upgrade',
  'rollback',
  'uninstall',
  'trust-key',
  'export',
  'probe',
  'manage-hosts',
  'import-bundle',
  'acknowledge',
  'draft',
  'unlock',
  'vault',
  'manage-operators',
  'sign-in',
] as const;
export type Action = (typeof ACTIONS)[number];

export function isAction(value: string): value is Action {
  return (ACTIONS as readonly string[]).includes(value);
}
