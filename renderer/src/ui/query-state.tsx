import type { ReactNode } from 'react';
import type { UseQueryResult } from '@tanstack/react-query';
import { ApiError, ApiErrorBodySchema } from '../../../electron/contract';
import { VaultUnlockOffer } from '../vault/vault-unlock';

/** What an operator needs from any failure: what happened and what to do. */
export function describeError(error: unknown): { code: string | null; message: string; remedy: string } {
  if (error instanceof ApiError) return { code: error.code, message: error.message, remedy: error.remedy };
  // A job's status carries its errors as bodies (code, message, remedy), not as thrown errors.
  const body = ApiErrorBodySchema.safeParse(error);
  if (body.success) return body.data;
  return {
    code: null,
    message: error instanceof Error ? error.message : String(error),
    remedy: 'Try again; if it keeps failing, reload the window and send the app log with your report.',
  };
}

export function ErrorNotice({
  error,
  title,
  onRetry,
  retrying = false,
  actions,
}: {
  error: unknown;
  title?: string;
  onRetry?: () => void;
  retrying?: boolean;
  /** Ways out besides a retry (a button to where the problem is solved). */
  actions?: ReactNode;
}) {
  const { code, message, remedy } = describeError(error);
  // Wherever a locked vault blocks an action, the way out is offered right here.
  const unlock = code === 'SECRETS_LOCKED' ? <VaultUnlockOffer onUnlocked={onRetry} /> : null;
  return (
    <div className="notice notice-error" role="alert">
      <div className="notice-body">
        {title ? <p className="notice-title">{title}</p> : null}
        <p className="notice-message">{message}</p>
        <p className="notice-remedy">{remedy}</p>
        {code ? <p className="notice-code">{code}</p> : null}
      </div>
      {onRetry || actions || unlock ? (
        <div className="notice-actions">
          {unlock}
          {actions}
          {onRetry ? (
            <button type="button" className="button" onClick={onRetry} disabled={retrying}>
              {retrying ? 'Retrying…' : 'Retry'}
            </button>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

export function LoadingState({ label }: { label: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <p className="state-title">{title}</p>
      {children ? <div className="state-detail">{children}</div> : null}
    </div>
  );
}

/**
 * The loading, error and empty states every query goes through, so no screen invents
 * its own. Data that is already shown stays when a refetch fails; the error sits above it.
 */
export function QueryState<T>({
  query,
  loadingLabel,
  errorTitle,
  isEmpty,
  empty,
  children,
}: {
  query: UseQueryResult<T, unknown>;
  loadingLabel: string;
  errorTitle?: string;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  const retry = () => void query.refetch();
  if (query.data === undefined) {
    if (query.isError) {
      return <ErrorNotice error={query.error} title={errorTitle} onRetry={retry} retrying={query.isFetching} />;
    }
    return <LoadingState label={loadingLabel} />;
  }
  const body = isEmpty?.(query.data) ? (empty ?? <EmptyState title="Nothing to show" />) : children(query.data);
  return (
    <>
      {query.isError ? <ErrorNotice error={query.error} title={errorTitle} onRetry={retry} retrying={query.isFetching} /> : null}
      {body}
    </>
  );
}
