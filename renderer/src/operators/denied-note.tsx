import type { Allowed } from './session-rules';

/**
 * Why the controls beside it are disabled for this operator's role, in words on the page (a
 * title shows only to someone who hovers); nothing when they are allowed. Controls of several
 * actions share one note: `useAllowed([...])` names every action refused.
 */
export function DeniedNote({ allowed, testId }: { allowed: Allowed; testId: string }) {
  if (allowed.reason === null) return null;
  return (
    <p className="muted denied-note" role="note" data-testid={testId}>
      {allowed.reason}
    </p>
  );
}
