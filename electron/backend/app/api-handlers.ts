import { ApiError, MAX_SERIES_KEYS, type BackupSummary } from '../../contract';
import type { ConfigService } from '../config/config-service';
import type { EventHub } from '../events/event-hub';
import type { HostService } from '../hosts/host-service';
import { readHostListFile } from '../hosts/read-host-list-file';
import type { ProbeJobs } from '../hosts/probe-jobs';
import type { PreflightService } from '../preflight/preflight-service';
import type { MetricStore } from '../metrics/metric-store';
import type { SeriesKeys } from '../metrics/series-keys';
import type { VaultAccess } from '../secrets/vault-unlock';
import type { EventSources, MethodHandlers } from '../server/dispatcher';
import type { AppInfo } from './app-info';
import { createAlertEventSources, createAlertHandlers, type AlertApiDeps } from './alert-handlers';
import { createFleetEventHandlers, createFleetEventSources, type FleetEventApiDeps } from './fleet-event-handlers';
import { createFleetLinkHandlers, createFleetLinkSources, type FleetLinkApiDeps } from './fleet-link-handlers';
import { createFleetProcessHandlers, createFleetProcessSources, type FleetProcessApiDeps } from './fleet-process-handlers';
import { createInstallEventSources, createInstallHandlers, type InstallApiDeps } from './install-handlers';
import { createInstallRunSources } from './install-run-handlers';
import { createAuditHandlers } from './audit-handlers';
import type { AuditLog } from '../audit/audit-log';
import type { HostAuditLogs } from '../audit/host-audit-logs';
import { createOperatorHandlers, type OperatorApiDeps } from './operator-handlers';
import { createProviderSignInHandlers, type ProviderSignInDeps } from './provider-sign-in-handlers';
import { createWebEnrolmentHandlers } from './web-enrolment-handlers';
import type { WebEnrolments } from './web-enrolment';
import { createUploadPermitHandlers } from './upload-permit-handlers';
import { createSupportHandlers, type SupportApiDeps } from './support-handlers';
import { createConfigBundleHandlers, type ConfigBundleApiDeps } from './config-bundle-handlers';
import { createBundleHandlers, type BundleApiDeps } from './bundle-handlers';
import { createAccessHandlers, type AccessApiDeps } from './access-handlers';
import { createRuntimeCredentialHandlers, type RuntimeCredentialApiDeps } from './runtime-credential-handlers';

export interface ApiDeps
  extends
    InstallApiDeps,
    AlertApiDeps,
    FleetEventApiDeps,
    FleetLinkApiDeps,
    FleetProcessApiDeps,
    OperatorApiDeps,
    ProviderSignInDeps,
    SupportApiDeps,
    AccessApiDeps,
    RuntimeCredentialApiDeps,
    ConfigBundleApiDeps,
    BundleApiDeps {
  /** Web mode's forced two-factor enrolments: optional to the provider's handlers alone, always given here. */
  webEnrolments: WebEnrolments;
  info: AppInfo;
  hosts: HostService;
  metrics: MetricStore;
  seriesKeys: SeriesKeys;
  hub: EventHub;
  probeJobs: ProbeJobs;
  preflight: PreflightService;
  config: ConfigService;
  secrets: VaultAccess;
  audit: AuditLog;
  /** Each runtime's own audit log, read from its host over SSH and verified. */
  hostAudit: HostAuditLogs;
  /** Writes a backup of the store and its bundles to a new file (store/backup.ts). */
  backup(out: string): Promise<BackupSummary>;
}

/** The contract's methods as thin calls into the capabilities that own them. */
export function createMethodHandlers(deps: ApiDeps): MethodHandlers {
  const { info, hosts, metrics, seriesKeys, probeJobs, preflight, config, secrets } = deps;
  return {
    'app.info': () => info,
    'hosts.list': (page) => hosts.list(page),
    'hosts.get': ({ hostId }) => hosts.get(hostId),
    'hosts.find': ({ host }) => hosts.get(host),
    'hosts.probe': ({ hostId }) => hosts.probe(hostId),
    // Without `trust` a host is stored unchecked (imports, scripts); the app's dialog always confirms the key.
    'hosts.add': ({ trust, ...input }) => (trust === undefined ? hosts.add(input) : hosts.addTrusted(input, trust)),
    'hosts.scanNew': (input) => hosts.scanNew(input),
    'hosts.update': ({ hostId, changes }) => hosts.update(hostId, changes),
    'hosts.remove': ({ hostId }) => hosts.remove(hostId),
    // A browser's host list may not name key files on this machine (keyPath rows are refused, the others imported).
    'hosts.import': ({ text, fileName }, caller) => hosts.importList(text, fileName, { keyFiles: caller.namesBackendFiles === true }),
    'hosts.importFile': ({ path }) => hosts.importList(readHostListFile(path), path),
    'hosts.scanKey': ({ hostId }) => hosts.scanKey(hostId),
    'hosts.trust': ({ hostId, fingerprint }) => hosts.trust(hostId, fingerprint),
    'hosts.factsHistory': ({ hostId, limit }) => hosts.history(hostId, limit),
    'hosts.importKnownHosts': ({ text }) => hosts.importKnownHosts(text),
    'probes.start': ({ hostIds, concurrency, timeoutMs }) => {
      const job = probeJobs.start(hostIds, { concurrency, timeoutMs });
      return { jobId: job.jobId, total: job.total };
    },
    'probes.cancel': ({ jobId }) => probeJobs.cancel(jobId),
    'probes.status': ({ jobId }) => probeJobs.status(jobId),
    'preflight.profiles': () => preflight.profiles(),
    'preflight.run': ({ hostIds, profile }) => preflight.run(hostIds, profile),
    'preflight.history': ({ hostId, limit }) => preflight.history(hostId, limit),
    'preflight.latest': (page) => preflight.latestPage(page),
    'metrics.query': (params) => {
      hosts.require(params.hostId);
      if (params.toMs - params.fromMs > 400 * 24 * 3600 * 1000) {
        throw new ApiError('BAD_PARAMS', 'A metrics query may span at most 400 days.', 'Ask for a shorter range.');
      }
      return metrics.query(params);
    },
    'metrics.seriesKeys': ({ hostId, families }) => {
      hosts.require(hostId);
      return {
        families: families.map((family) => {
          // One more than is listed says whether there are more.
          const keys = seriesKeys.keysOf(hostId, family, MAX_SERIES_KEYS + 1);
          return { family, keys: keys.slice(0, MAX_SERIES_KEYS), more: keys.length > MAX_SERIES_KEYS };
        }),
      };
    },
    'config.check': (input) => config.check(input),
    'config.explain': (input) => config.explain(input),
    'config.diff': (input) => config.diff(input),
    'secrets.status': () => secrets.status(),
    'secrets.unlock': ({ passphrase }) => secrets.unlockWithPassphrase(passphrase),
    'secrets.changePassphrase': ({ passphrase, newPassphrase }) => secrets.changePassphrase(passphrase, newPassphrase),
    'store.backup': ({ path }) => deps.backup(path),
    ...createInstallHandlers(deps),
    ...createAlertHandlers(deps),
    ...createFleetEventHandlers(deps),
    ...createFleetLinkHandlers(deps),
    ...createFleetProcessHandlers(deps),
    ...createAuditHandlers(deps),
    ...createOperatorHandlers(deps),
    ...createProviderSignInHandlers(deps),
    ...createWebEnrolmentHandlers(deps),
    ...createSupportHandlers(deps),
    ...createUploadPermitHandlers(deps),
    ...createConfigBundleHandlers(deps),
    ...createBundleHandlers(deps),
    ...createAccessHandlers(deps),
    ...createRuntimeCredentialHandlers(deps),
  };
}

export function createEventSources({ hosts, hub, fleetEvents, links, fleetProcesses }: ApiDeps): EventSources {
  return {
    ...createFleetLinkSources({ links, hub }),
    ...createFleetProcessSources({ fleetProcesses }),
    ...createFleetEventSources({ fleetEvents }),
    ...createInstallEventSources({ hub }),
    ...createInstallRunSources({ hub }),
    ...createAlertEventSources({ hub }),
    'metrics.live': ({ hostId }, emit) => {
      hosts.require(hostId);
      return hub.on('metrics.live', (sample) => {
        if (sample.hostId === hostId) emit(sample);
      });
    },
    'hosts.changed': (_params, emit) => hub.on('hosts.changed', emit),
    'probes.progress': ({ jobId }, emit) =>
      hub.on('probes.progress', (progress) => {
        if (jobId === undefined || progress.jobId === jobId) emit(progress);
      }),
  };
}
