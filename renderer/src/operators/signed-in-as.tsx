import { useApiAction } from '../api/use-api-action';
import { useSession } from './use-session';

/**
 * In the sidebar: who this window acts as, and a way to sign out (back to the sign-in
 * screen on a fresh connection). Nothing while the control center has no operators.
 */
export function SignedInAs() {
  const session = useSession().data;
  const signOut = useApiAction('session.signOut');
  if (!session?.operator) return null;
  return (
    <div className="signed-in" data-testid="signed-in-as" data-role={session.operator.role}>
      <span className="muted">Signed in as</span> <strong className="mono">{session.operator.name}</strong>{' '}
      <span className="muted">({session.operator.role})</span>
      <button
        type="button"
        className="button"
        disabled={signOut.pending}
        onClick={() =>
          void signOut.run({}).then(() => {
            // A fresh page: nothing of what this operator saw stays in memory.
            window.location.reload();
          })
        }
      >
        Sign out
      </button>
    </div>
  );
}
