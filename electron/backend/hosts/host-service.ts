import { ApiError, type HostDetail, type HostFacts, type HostSummary } from '../../contract';
import type { createFactsRepo } from '../store/facts-repo';
import type { createHostsRepo, HostRow } from '../store/hosts-repo';
import { summarizeHost } from './summarize-host';

export interface HostServiceDeps {
  hosts: ReturnType<typeof createHostsRepo>;
  facts: ReturnType<typeof createFactsRepo>;
  probeLocal: () => Promise<HostFacts>;
  onFactsChanged: (hostId: number) => void;
}

/** The inventory as the API and the CLI see it. */
export function createHostService(deps: HostServiceDeps) {
  const { hosts, facts } = deps;
  // Two probes of the same host at once would race to store the same snapshot twice.
  const inFlight = new Map<number, Promise<HostFacts>>();

  function require(idOrName: number | string): HostRow {
    const row = typeof idOrName === 'number' ? hosts.get(idOrName) : (hosts.findByName(idOrName) ?? byNumericName(idOrName));
    if (!row) {
      throw new ApiError(
        'HOST_NOT_FOUND',
        `There is no host "${idOrName}" in the inventory.`,
        'List the hosts with `sutazai hosts list` (or the Hosts page) and use a name or id from there.',
      );
    }
    return row;
  }

  function byNumericName(value: string): HostRow | undefined {
    return /^\d+$/.test(value) ? hosts.get(Number(value)) : undefined;
  }

  async function probe(idOrName: number | string): Promise<HostFacts> {
    const row = require(idOrName);
    if (row.kind !== 'local') {
      throw new ApiError(
        'PROBE_FAILED',
        `Host ${row.name} is reached over SSH, which this version cannot probe yet.`,
        'Probe the local machine; SSH probing comes with the SSH inventory.',
      );
    }
    const running = inFlight.get(row.id);
    if (running) return running;
    const task = (async () => {
      let result: HostFacts;
      try {
        result = await deps.probeLocal();
      } catch (error) {
        throw new ApiError('PROBE_FAILED', `Probing ${row.name} failed: ${(error as Error).message}.`, 'Try again; if it keeps failing, send the app log with your report.', { cause: error });
      }
      facts.save(row.id, result);
      deps.onFactsChanged(row.id);
      return result;
    })().finally(() => inFlight.delete(row.id));
    inFlight.set(row.id, task);
    return task;
  }

  return {
    require,
    probe,
    list(): HostSummary[] {
      return hosts.list().map((row) => summarizeHost(row, facts.latest(row.id)));
    },
    get(idOrName: number | string): HostDetail {
      const row = require(idOrName);
      const latest = facts.latest(row.id);
      return { host: summarizeHost(row, latest), facts: latest };
    },
    /** Facts for a host, probing first when none were ever stored (the CLI's first run). */
    async factsOrProbe(idOrName: number | string): Promise<HostFacts> {
      const row = require(idOrName);
      return facts.latest(row.id) ?? probe(row.id);
    },
  };
}

export type HostService = ReturnType<typeof createHostService>;
