import { useQueryClient } from '@tanstack/react-query';
import { useConnection } from './api/api-context';
import { apiKey, useAppInfo } from './api/queries';
import { useApiEvent } from './api/use-api-event';
import { ErrorNotice } from './ui/query-state';
import { BundlesPage } from './bundles/bundles-page';
import { ConfigurationPage } from './config/configuration-page';
import { HostPage } from './hosts/host-page';
import { HostsPage } from './hosts/hosts-page';
import { InstallWizardPage } from './wizard/install-wizard-page';
import { InstalledPage } from './installs/installed-page';
import { InstallsPage } from './installs/installs-page';
import { FleetOverviewPage } from './fleet/fleet-overview-page';
import { FleetProcessPage } from './fleet/process/fleet-process-page';
import { AlertNotifications } from './fleet/alerts/alert-notifications';
import { AlertsPage } from './fleet/alerts/alerts-page';
import { EventsPage } from './fleet/events/events-page';
import { AuditPage } from './audit/audit-page';
import { SupportPage } from './support/support-page';
import { useFiringAlerts } from './fleet/use-fleet-alerts';
import { ProbeJobPage } from './probes/probe-job-page';
import { OperatorsPage } from './operators/operators-page';
import { SignInScreen, TeamSignInScreen } from './operators/sign-in-screen';
import { SignedInAs } from './operators/signed-in-as';
import { StepUpProvider } from './operators/step-up-prompt';
import { mustSignIn } from './operators/session-rules';
import { PolicyInvalidBanner } from './operators/policy-invalid-banner';
import { useSession } from './operators/use-session';
import { ProbeJobsProvider } from './probes/probe-jobs-context';
import { hrefFor, type Route } from './router/route';
import { useRoute } from './router/use-route';

/** Keeps every host view current when the backend says a host changed. */
function useHostChanges(): void {
  const queryClient = useQueryClient();
  useApiEvent('hosts.changed', {}, ({ hostId }) => {
    void queryClient.invalidateQueries({ queryKey: apiKey('hosts.list') });
    void queryClient.invalidateQueries({ queryKey: apiKey('hosts.get', { hostId }) });
    void queryClient.invalidateQueries({ queryKey: apiKey('hosts.factsHistory') });
  });
}

function About() {
  const info = useAppInfo();
  if (!info.data) return null;
  return (
    <dl className="about">
      <div className="about-row">
        <dt className="about-label">Version</dt>
        <dd className="figure">{info.data.version}</dd>
      </div>
      <div className="about-row">
        <dt className="about-label">Data</dt>
        <dd className="about-dir mono" title={info.data.dataDir}>
          {info.data.dataDir}
        </dd>
      </div>
    </dl>
  );
}

function Sidebar({ route }: { route: Route }) {
  const onHosts = route.name === 'hosts' || route.name === 'host' || route.name === 'probe-job';
  return (
    <nav className="sidebar" aria-label="Main">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true" />
        <span className="brand-name">SutazAI</span>
        <span className="brand-sub">Control Center</span>
      </div>
      <ul className="nav">
        <li>
          <a className="nav-link" href={hrefFor({ name: 'hosts' })} aria-current={onHosts ? 'page' : undefined}>
            Hosts
          </a>
        </li>
        <li>
          <a className="nav-link" href={hrefFor({ name: 'bundles' })} aria-current={route.name === 'bundles' ? 'page' : undefined}>
            Bundles
          </a>
        </li>
        <li>
          <a
            className="nav-link"
            href={hrefFor({ name: 'configuration' })}
            aria-current={route.name === 'configuration' ? 'page' : undefined}
          >
            Configuration
          </a>
        </li>
        <li>
          <a className="nav-link" href={hrefFor({ name: 'install' })} aria-current={route.name === 'install' ? 'page' : undefined}>
            Install
          </a>
        </li>
        <li>
          <a
            className="nav-link"
            href={hrefFor({ name: 'installs' })}
            aria-current={route.name === 'installs' || route.name === 'installed' ? 'page' : undefined}
          >
            Installs
          </a>
        </li>
        <li>
          <a className="nav-link" href={hrefFor({ name: 'fleet' })} aria-current={route.name === 'fleet' ? 'page' : undefined}>
            Fleet
          </a>
        </li>
        <li>
          <a className="nav-link" href={hrefFor({ name: 'events' })} aria-current={route.name === 'events' ? 'page' : undefined}>
            Events
          </a>
        </li>
        <li>
          <a className="nav-link" href={hrefFor({ name: 'alerts' })} aria-current={route.name === 'alerts' ? 'page' : undefined}>
            Alerts <FiringBadge />
          </a>
        </li>
        <li>
          <a className="nav-link" href={hrefFor({ name: 'audit' })} aria-current={route.name === 'audit' ? 'page' : undefined}>
            Audit
          </a>
        </li>
        <li>
          <a className="nav-link" href={hrefFor({ name: 'support' })} aria-current={route.name === 'support' ? 'page' : undefined}>
            Support
          </a>
        </li>
        <li>
          <a className="nav-link" href={hrefFor({ name: 'operators' })} aria-current={route.name === 'operators' ? 'page' : undefined}>
            Operators
          </a>
        </li>
      </ul>
      <AlertNotifications />
      <SignedInAs />
      <About />
    </nav>
  );
}

/** How many alerts fire now, beside the Alerts link; nothing when none does. */
function FiringBadge() {
  const firing = useFiringAlerts().all.length;
  if (firing === 0) return null;
  return (
    <span className="badge nav-badge" data-testid="alerts-badge" data-firing={firing} title={`${firing} firing`}>
      {firing}
      <span className="visually-hidden"> firing</span>
    </span>
  );
}

function ConnectionLostBanner({ reason, onReconnect }: { reason: string; onReconnect: () => void }) {
  return (
    <div className="banner banner-error" role="alert" data-testid="connection-lost">
      <div>
        <strong>Connection lost.</strong> The backend closed the connection ({reason}); what you see may be out of date. If the backend
        stopped, start it again, then reconnect.
      </div>
      <button type="button" className="button" onClick={onReconnect}>
        Reconnect
      </button>
    </div>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.name) {
    case 'hosts':
      return <HostsPage />;
    case 'host':
      return <HostPage hostId={route.hostId} {...(route.atMs !== undefined ? { atMs: route.atMs } : {})} />;
    case 'probe-job':
      return <ProbeJobPage jobId={route.jobId} />;
    case 'bundles':
      return <BundlesPage />;
    case 'configuration':
      return <ConfigurationPage />;
    case 'install':
      return <InstallWizardPage />;
    case 'installs':
      return <InstallsPage />;
    case 'fleet':
      return <FleetOverviewPage />;
    case 'fleet-process':
      return (
        <FleetProcessPage
          key={`${route.hostId}/${route.process}`}
          hostId={route.hostId}
          process={route.process}
          {...(route.instance !== undefined ? { instance: route.instance } : {})}
          {...(route.atMs !== undefined ? { atMs: route.atMs } : {})}
        />
      );
    case 'events':
      return <EventsPage />;
    case 'alerts':
      return <AlertsPage />;
    case 'operators':
      return <OperatorsPage />;
    case 'audit':
      return <AuditPage />;
    case 'support':
      return <SupportPage />;
    case 'installed':
      return (
        <InstalledPage
          key={route.installName}
          installName={route.installName}
          {...(route.upgradeTo !== undefined ? { upgradeTo: route.upgradeTo } : {})}
        />
      );
    case 'not-found':
      return (
        <section className="page">
          <h1>Nothing here</h1>
          <p className="page-sub">
            There is no page at <span className="mono">{route.path}</span>. <a href={hrefFor({ name: 'hosts' })}>Go to Hosts</a>.
          </p>
        </section>
      );
  }
}

/** Until this window has signed in (when the control center has operators), the sign-in screen and nothing else. */
function ConnectedApp({ lostReason, onReconnect }: { lostReason: string | null; onReconnect: () => void }) {
  const session = useSession();
  if (session.isError && lostReason === null)
    return (
      <div className="splash">
        <div className="splash-card">
          <ErrorNotice title="Could not tell who you are signed in as" error={session.error} onRetry={() => void session.refetch()} />
        </div>
      </div>
    );
  if (!session.data && lostReason === null)
    return (
      <div className="splash" role="status">
        <span className="spinner" aria-hidden="true" /> Connecting to the backend…
      </div>
    );
  if (mustSignIn(session.data) && lostReason === null) return <SignInScreen />;
  return <SignedInApp lostReason={lostReason} onReconnect={onReconnect} />;
}

function SignedInApp({ lostReason, onReconnect }: { lostReason: string | null; onReconnect: () => void }) {
  const route = useRoute();
  useHostChanges();
  return (
    <StepUpProvider>
      <ProbeJobsProvider>
        <div className="shell">
          <Sidebar route={route} />
          <main className="main">
            {lostReason !== null ? <ConnectionLostBanner reason={lostReason} onReconnect={onReconnect} /> : null}
            <PolicyInvalidBanner />
            <Page route={route} />
          </main>
        </div>
      </ProbeJobsProvider>
    </StepUpProvider>
  );
}

/** Web mode in a tab without a (valid) access token: how to get in, nothing else. */
function AccessNeeded({ error }: { error: unknown }) {
  return (
    <div className="splash">
      <div className="splash-card" data-testid="access-needed">
        <h1>Open the address printed by npm run web</h1>
        <p>
          This control center can install software as root on your machines, so its page talks to the backend only with the access token of
          this web-mode session. The token is in the address <span className="mono">npm run web</span> printed; this tab keeps it (a reload
          keeps working) and removes it from the address bar.
        </p>
        <ErrorNotice error={error} />
      </div>
    </div>
  );
}

/** The window: waits for the backend connection, then shows the app. */
export function App() {
  const { state, reconnect } = useConnection();
  switch (state.status) {
    case 'connecting':
      return (
        <div className="splash" role="status">
          <span className="spinner" aria-hidden="true" /> Connecting to the backend…
        </div>
      );
    case 'failed':
      if (state.error.code === 'UNAUTHORIZED') return <AccessNeeded error={state.error} />;
      // Web mode for a team: the socket opens only for a signed-in browser.
      if (state.error.code === 'SIGN_IN_REQUIRED') return <TeamSignInScreen />;
      return (
        <div className="splash">
          <div className="splash-card">
            <h1>Cannot reach the backend</h1>
            <ErrorNotice error={state.error} onRetry={reconnect} />
          </div>
        </div>
      );
    case 'connected':
      return <ConnectedApp lostReason={null} onReconnect={reconnect} />;
    case 'lost':
      return <ConnectedApp lostReason={state.reason} onReconnect={reconnect} />;
  }
}
