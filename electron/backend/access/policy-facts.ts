import type { AccessResource, AccessSubject } from '../../../agents-runtime/src/access';
import type { OperatorAttributes, Operator } from '../../contract';
import type { HostsRepo } from '../store/hosts-repo';
import type { InstallsRepo } from '../store/installs-repo';
import type { PolicyFacts } from './policy-gate';

export interface PolicyFactsDeps {
  hosts: Pick<HostsRepo, 'get'>;
  installs: Pick<InstallsRepo, 'names' | 'findByName' | 'hosts' | 'installOfHost'>;
  operators: { list(): Operator[] };
}

/** What the policy gate knows of hosts, installs and operators, read from the store at each decision. */
export function storePolicyFacts({ hosts, installs, operators }: PolicyFactsDeps): PolicyFacts {
  const installHosts = (name: string) => {
    const install = installs.findByName(name);
    return install === null ? [] : installs.hosts(install.id);
  };
  return {
    host(hostId) {
      const host = hosts.get(hostId);
      return host ? { name: host.name, labels: host.labels } : null;
    },
    installOfHost: (hostId) => installs.installOfHost(hostId)?.name ?? null,
    installHostConfigs: (name) => installHosts(name).map((row) => ({ hostId: row.hostId, config: parseConfig(row.config) })),
    operatorAttributes(name): OperatorAttributes {
      return operators.list().find((operator) => operator.name === name)?.attributes ?? {};
    },
    inventory() {
      const resources: AccessResource[] = [];
      for (const install of installs.names()) {
        for (const row of installHosts(install)) {
          const host = hosts.get(row.hostId);
          const config = parseConfig(row.config) as { environment?: unknown };
          const base = {
            install,
            hostName: host?.name,
            hostLabels: host?.labels ?? [],
            environment: typeof config.environment === 'string' ? config.environment : undefined,
          };
          resources.push(base, ...processesOf(row.role, row.gpu).map((process) => ({ ...base, process })));
        }
      }
      const subjects: AccessSubject[] = operators.list().map(({ name, role, attributes }) => ({ name, role, attributes }));
      return { resources, operators: subjects };
    },
  };
}

/** The processes the rendered manifest gives a host of this role (install/render/render-manifest.ts). */
function processesOf(role: string, gpu: boolean): string[] {
  return [
    ...(role === 'core' || role === 'both' ? ['core'] : []),
    ...(role === 'agent' || role === 'both' ? ['agent'] : []),
    ...(gpu ? ['agent-gpu'] : []),
  ];
}

function parseConfig(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return {};
  }
}
