/** The places the app can show; each has one hash path. */
export type Route =
  | { name: 'hosts' }
  /** One host; `atMs` (`?at=<ms>`: an event's second) centres its charts on that time. */
  | { name: 'host'; hostId: number; atMs?: number }
  | { name: 'probe-job'; jobId: string }
  | { name: 'bundles' }
  | { name: 'configuration' }
  | { name: 'install' }
  | { name: 'installs' }
  /** Every host of every install at a glance. */
  | { name: 'fleet' }
  /** The fleet's events, newest first, with filters. */
  | { name: 'events' }
  /** Firing, pending and recently resolved alerts, and the rule files' problems. */
  | { name: 'alerts' }
  /** The people this control center knows, their roles and attributes. */
  | { name: 'operators' }
  /** The audit log (who changed what, from where, and how it ended) and the host-key history. */
  | { name: 'audit' }
  /** Support bundles: collect, review the redactions, save; analyze one from any site. */
  | { name: 'support' }
  /** One recorded install; `upgradeTo` opens its upgrade to that version (the Bundles page links there after an import). */
  | { name: 'installed'; installName: string; upgradeTo?: string }
  /**
   * A process of an installed host: its charts, logs (at `atMs` when given: a chart's point
   * or an event's second) and events; `instance` picks one of its instances' logs.
   */
  | { name: 'fleet-process'; hostId: number; process: string; instance?: string; atMs?: number }
  | { name: 'not-found'; path: string };

/**
 * Parses a location hash (`#/hosts`, `#/hosts/3`, `#/hosts/3?at=<ms>`, `#/probes/<job id>`, `#/bundles`, `#/configuration`, `#/install`, `#/installs`, `#/installs/<name>`, `#/fleet`, `#/events`, `#/alerts`, `#/operators`, `#/fleet/hosts/<id>/processes/<name>?at=<ms>`,
 * `#/installs/<name>/upgrade/<version>`) into a route. An empty hash is the
 * hosts list, the app's home. Trailing slashes and a query part are tolerated.
 */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '').split('?', 1)[0] ?? '';
  const segments = path.split('/').filter((segment) => segment !== '');
  if (segments.length === 0) return { name: 'hosts' };
  if (segments[0] === 'hosts') {
    if (segments.length === 1) return { name: 'hosts' };
    const id = segments[1] ?? '';
    if (segments.length === 2 && /^[1-9]\d{0,15}$/.test(id)) {
      const hostId = Number(id);
      const atMs = atOf(hash);
      if (Number.isSafeInteger(hostId)) return atMs === undefined ? { name: 'host', hostId } : { name: 'host', hostId, atMs };
    }
  }
  if (segments.length === 1 && segments[0] === 'bundles') return { name: 'bundles' };
  if (segments.length === 1 && segments[0] === 'configuration') return { name: 'configuration' };
  if (segments.length === 1 && segments[0] === 'install') return { name: 'install' };
  if (segments.length === 1 && segments[0] === 'fleet') return { name: 'fleet' };
  const fleetProcess = parseFleetProcess(segments, hash);
  if (fleetProcess) return fleetProcess;
  if (segments.length === 1 && segments[0] === 'events') return { name: 'events' };
  if (segments.length === 1 && segments[0] === 'alerts') return { name: 'alerts' };
  if (segments.length === 1 && segments[0] === 'operators') return { name: 'operators' };
  if (segments.length === 1 && segments[0] === 'audit') return { name: 'audit' };
  if (segments.length === 1 && segments[0] === 'support') return { name: 'support' };
  if (segments[0] === 'installs') {
    if (segments.length === 1) return { name: 'installs' };
    const installName = decodeSegment(segments[1]!);
    // The contract's install names; anything else is no install of ours.
    if (installName !== null && /^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/.test(installName)) {
      if (segments.length === 2) return { name: 'installed', installName };
      if (segments.length === 4 && segments[2] === 'upgrade' && /^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$/.test(segments[3]!))
        return { name: 'installed', installName, upgradeTo: segments[3]! };
    }
  }
  if (segments[0] === 'probes' && segments.length === 2) {
    const jobId = segments[1] ?? '';
    // Job ids are the backend's UUIDs; the contract allows up to 64 characters.
    if (/^[A-Za-z0-9_-]{1,64}$/.test(jobId)) return { name: 'probe-job', jobId };
  }
  return { name: 'not-found', path: `/${segments.join('/')}` };
}

/** The hash for a route; the inverse of `parseRoute`. */
export function hrefFor(route: Route): string {
  switch (route.name) {
    case 'hosts':
      return '#/hosts';
    case 'host':
      return `#/hosts/${route.hostId}${route.atMs !== undefined ? `?at=${route.atMs}` : ''}`;
    case 'probe-job':
      return `#/probes/${route.jobId}`;
    case 'bundles':
      return '#/bundles';
    case 'configuration':
      return '#/configuration';
    case 'install':
      return '#/install';
    case 'installs':
      return '#/installs';
    case 'fleet':
      return '#/fleet';
    case 'events':
      return '#/events';
    case 'alerts':
      return '#/alerts';
    case 'operators':
      return '#/operators';
    case 'audit':
      return '#/audit';
    case 'support':
      return '#/support';
    case 'installed':
      return `#/installs/${encodeURIComponent(route.installName)}${route.upgradeTo !== undefined ? `/upgrade/${route.upgradeTo}` : ''}`;
    case 'fleet-process': {
      const query = new URLSearchParams();
      if (route.instance !== undefined) query.set('instance', route.instance);
      if (route.atMs !== undefined) query.set('at', String(route.atMs));
      const tail = query.toString() === '' ? '' : `?${query.toString()}`;
      return `#/fleet/hosts/${route.hostId}/processes/${encodeURIComponent(route.process)}${tail}`;
    }
    case 'not-found':
      return `#${route.path}`;
  }
}

/** `#/fleet/hosts/<hostId>/processes/<name>?at=<ms>&instance=<instance>` (the Events page links here at an event's second). */
function parseFleetProcess(segments: string[], hash: string): Route | null {
  if (segments.length !== 5 || segments[0] !== 'fleet' || segments[1] !== 'hosts' || segments[3] !== 'processes') return null;
  if (!/^[1-9]\d{0,15}$/.test(segments[2]!)) return null;
  const hostId = Number(segments[2]);
  const process = decodeSegment(segments[4]!);
  // The contract's process names.
  if (!Number.isSafeInteger(hostId) || process === null || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(process)) return null;
  const query = new URLSearchParams(hash.split('?')[1] ?? '');
  const route: Extract<Route, { name: 'fleet-process' }> = { name: 'fleet-process', hostId, process };
  const atMs = atOf(hash);
  if (atMs !== undefined) route.atMs = atMs;
  const instance = query.get('instance');
  if (instance !== null && /^[A-Za-z0-9][A-Za-z0-9._-]{0,70}$/.test(instance)) route.instance = instance;
  return route;
}

/** A page's moment, `?at=<ms since the epoch>`; anything else is no moment. */
function atOf(hash: string): number | undefined {
  const at = new URLSearchParams(hash.split('?')[1] ?? '').get('at');
  return at !== null && /^\d{1,15}$/.test(at) ? Number(at) : undefined;
}

function decodeSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}
