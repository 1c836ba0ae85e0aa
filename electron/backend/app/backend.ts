import type { Logger } from 'pino';
import type { HostFacts } from '../../contract';
import { EventHub } from '../events/event-hub';
import { createHostService, type HostService } from '../hosts/host-service';
import { createAppLogger, type LogLevel } from '../logging/logger';
import { defaultCounterReader, type CounterReader } from '../metrics/host-counters';
import { startHostSampler, type HostSampler } from '../metrics/host-sampler';
import { createMetricStore } from '../metrics/metric-store';
import { probeLocalHost } from '../probe/local-probe';
import { createDispatcher, type Dispatcher } from '../server/dispatcher';
import { createFactsRepo } from '../store/facts-repo';
import { createHostsRepo } from '../store/hosts-repo';
import { openStore, type Store } from '../store/open-store';
import { createEventSources, createMethodHandlers } from './api-handlers';
import { appVersion, type AppInfo, type AppMode } from './app-info';

export interface BackendConfig {
  dataDir: string;
  logLevel: LogLevel;
  mode: AppMode;
  /** Echo logs to stderr as well as the log file. */
  logToConsole: boolean;
  /** Run the 1 Hz sampler of the local machine (off for one-shot CLI commands). */
  sampleLocalHost: boolean;
  /** Probe the local machine at start so its page is current (off for the CLI). */
  probeAtStart: boolean;
  counterReader?: CounterReader;
  probeLocal?: () => Promise<HostFacts>;
  now?: () => number;
}

export interface Backend {
  readonly dispatcher: Dispatcher;
  readonly hosts: HostService;
  readonly logger: Logger;
  readonly logFile: string;
  readonly info: AppInfo;
  readonly localHostId: number;
  /** Resolves when the start-up probe of the local machine has finished (or failed). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * The composition root: opens the store, wires capabilities to the contract, starts
 * the local machine's sampler. Every entry (desktop utility process, web mode, CLI,
 * tests) builds exactly this and differs only in the pipe it serves.
 */
export async function startBackend(config: BackendConfig): Promise<Backend> {
  const now = config.now ?? Date.now;
  // The store first: it is what checks that the data directory is usable at all.
  const store: Store = openStore({ dataDir: config.dataDir });
  // The log lives in the data directory, so it can only start once the store proved it usable.
  const { logger, file: logFile, close: closeLog } = createAppLogger({
    dataDir: config.dataDir,
    level: config.logLevel,
    console: config.logToConsole,
  });
  const hub = new EventHub((event, error) => logger.error({ event, err: error }, 'event listener failed'));
  const hostsRepo = createHostsRepo(store.db);
  const factsRepo = createFactsRepo(store.db, logger);
  const metrics = createMetricStore(store.db, { clock: now, logger });
  const local = hostsRepo.ensureLocal(now());
  const hosts = createHostService({
    hosts: hostsRepo,
    facts: factsRepo,
    probeLocal: config.probeLocal ?? (() => probeLocalHost(now)),
    onFactsChanged: (hostId) => hub.emit('hosts.changed', { hostId }),
  });
  const info: AppInfo = {
    version: appVersion(),
    mode: config.mode,
    dataDir: config.dataDir,
    platform: `${process.platform}-${process.arch}`,
    startedAt: now(),
  };
  const deps = { info, hosts, metrics, hub };
  const dispatcher = createDispatcher({
    handlers: createMethodHandlers(deps),
    sources: createEventSources(deps),
    logger,
  });

  let sampler: HostSampler | null = null;
  if (config.sampleLocalHost) {
    let lastError = '';
    sampler = startHostSampler({
      hostId: local.id,
      read: config.counterReader ?? defaultCounterReader(),
      sink: metrics,
      now,
      onSample: (sample) => hub.emit('metrics.live', sample),
      onError: (error) => {
        // One line per distinct failure, not one a second.
        const text = String(error);
        if (text !== lastError) logger.warn({ err: error }, 'local sampler failed a tick');
        lastError = text;
      },
    });
  }

  const ready = config.probeAtStart
    ? hosts.probe(local.id).then(
        () => logger.info({ hostId: local.id }, 'local machine probed'),
        (error) => logger.error({ err: error }, 'probing the local machine failed'),
      )
    : Promise.resolve();

  logger.info({ mode: config.mode, dataDir: config.dataDir, version: info.version, store: store.path }, 'backend started');

  let closed = false;
  return {
    dispatcher,
    hosts,
    logger,
    logFile,
    info,
    localHostId: local.id,
    ready,
    async close() {
      if (closed) return;
      closed = true;
      sampler?.stop();
      await ready;
      metrics.close();
      store.close();
      logger.info({}, 'backend stopped');
      logger.flush?.();
      closeLog();
    },
  };
}
