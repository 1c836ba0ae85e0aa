import { useQueryClient } from '@tanstack/react-query';
import { visibleText, type WebSession } from '../../../electron/contract';
import { apiKey, useApiQuery } from '../api/queries';
import { useApiAction } from '../api/use-api-action';
import { Card } from '../ui/card';
import { DataTable, type Column } from '../ui/data-table';
import { EmptyState, ErrorNotice, LoadingState } from '../ui/query-state';
import { RelativeTime } from '../ui/relative-time';

/**
 * Browsers signed in to web mode for a team (issue 14, item 5): one's own, or everyone's for
 * an admin, with where from and when each ends; each can be signed out from here (an admin's
 * for anyone). The desktop app and loopback web mode make none.
 */
export function WebSessionsCard({ everyone }: { everyone: boolean }) {
  const sessions = useApiQuery('sessions.list', { all: everyone });
  return (
    <Card title={everyone ? 'Browser sessions' : 'My browser sessions'} testId="web-sessions">
      {sessions.isError ? (
        <ErrorNotice title="Could not load the browser sessions" error={sessions.error} onRetry={() => void sessions.refetch()} />
      ) : !sessions.data ? (
        <LoadingState label="Loading the browser sessions…" />
      ) : sessions.data.length === 0 ? (
        <EmptyState title="No browser is signed in">Browsers sign in when web mode serves a team over HTTPS.</EmptyState>
      ) : (
        <DataTable
          columns={COLUMNS}
          rows={sessions.data}
          rowKey={(session) => session.id}
          rowProps={(session) => ({ 'data-session': session.operator })}
        />
      )}
    </Card>
  );
}

const COLUMNS: Array<Column<WebSession>> = [
  {
    header: 'Operator',
    cell: (session) => (
      <span className="mono">
        {visibleText(session.operator)}
        {session.current ? <span className="muted"> (this browser)</span> : null}
      </span>
    ),
  },
  { header: 'From', cell: (session) => <span className="mono">{visibleText(session.address)}</span> },
  { header: 'Signed in', cell: (session) => <RelativeTime ms={session.createdAt} /> },
  { header: 'Last used', cell: (session) => <RelativeTime ms={session.lastSeenAt} /> },
  { header: 'Ends if idle', cell: (session) => <RelativeTime ms={session.idleExpiresAt} /> },
  { header: 'Ends at the latest', cell: (session) => <RelativeTime ms={session.expiresAt} /> },
  { label: 'Actions', cell: (session) => <SignOutSession session={session} /> },
];

function SignOutSession({ session }: { session: WebSession }) {
  const revoke = useApiAction('sessions.revoke');
  const queryClient = useQueryClient();
  return (
    <div className="actions">
      <button
        type="button"
        className="button"
        disabled={revoke.pending}
        onClick={() =>
          void revoke.run({ id: session.id }).then(async () => {
            await queryClient.invalidateQueries({ queryKey: apiKey('sessions.list') });
            // Signed this very browser out: it asks who it is again and shows the sign-in.
            if (session.current) await queryClient.invalidateQueries({ queryKey: apiKey('session.whoami') });
          })
        }
      >
        Sign out
      </button>
      {revoke.state.status === 'error' ? <ErrorNotice title="The session was not ended" error={revoke.state.error} /> : null}
    </div>
  );
}
