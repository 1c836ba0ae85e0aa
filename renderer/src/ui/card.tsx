import type { ReactNode } from 'react';

export function Card({
  title,
  children,
  aside,
  actions,
  testId,
}: {
  title: ReactNode;
  children: ReactNode;
  aside?: ReactNode;
  actions?: ReactNode;
  testId?: string;
}) {
  return (
    <section className="card" data-testid={testId}>
      <header className={actions ? 'card-head card-head-actions' : 'card-head'}>
        <h2>{title}</h2>
        {aside || actions ? (
          <div className="card-head-side">
            {aside ? <span className="card-aside">{aside}</span> : null}
            {actions ? <div className="actions">{actions}</div> : null}
          </div>
        ) : null}
      </header>
      <div className="card-body">{children}</div>
    </section>
  );
}

/** One row of a fact sheet (`<dl className="facts">`); empty values show a dash. */
export function Fact({ label, children, testId, bytes }: { label: string; children: ReactNode; testId?: string; bytes?: number }) {
  return (
    <>
      <dt>{label}</dt>
      <dd className="figure" data-testid={testId} data-bytes={bytes}>
        {children === '' || children === null || children === undefined ? <span className="muted">—</span> : children}
      </dd>
    </>
  );
}
