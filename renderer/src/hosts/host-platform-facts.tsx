import type { ReactNode } from 'react';
import type { HostFacts, ListeningPort } from '../../../electron/contract';
import { Card, Fact } from '../ui/card';
import { Unknown } from './unknown-fact';
import { formatBytes } from '../format/bytes';
import { formatDateTime } from '../format/time';
import {
  clockSkewLevel,
  describeClockSkew,
  describeInitSystem,
  describePrivilege,
  describeVirtualization,
  formatUtcOffset,
} from './describe-facts';

/**
 * A fact added after the first release: `undefined` in a snapshot stored before it
 * existed (say nothing), null when the probe could not read it (say why).
 */
function Later<T>({
  facts,
  section,
  value,
  children,
}: {
  facts: HostFacts;
  section: string;
  value: T | null | undefined;
  children: (value: T) => ReactNode;
}) {
  if (value === undefined) return <span className="muted">not in this snapshot; probe again</span>;
  if (value === null) return <Unknown facts={facts} section={section} inline />;
  return <>{children(value)}</>;
}

/** Rows for the System card: what kind of machine this is and what runs it. */
export function PlatformFacts({ facts }: { facts: HostFacts }) {
  return (
    <>
      <Fact label="Virtualization" testId="virtualization">
        <Later facts={facts} section="virtualization" value={facts.virtualization}>
          {(virt) => describeVirtualization(virt)}
        </Later>
      </Fact>
      <Fact label="Init system" testId="init-system">
        <Later facts={facts} section="initSystem" value={facts.initSystem}>
          {(init) => describeInitSystem(init)}
        </Later>
      </Fact>
      <Fact label="Machine ID" testId="machine-id">
        <Later facts={facts} section="machineId" value={facts.machineId}>
          {(id) => <span className="mono">{id}</span>}
        </Later>
      </Fact>
    </>
  );
}

function ClockFact({ facts }: { facts: HostFacts }) {
  return (
    <Later facts={facts} section="clock" value={facts.clock}>
      {(clock) => {
        const skew = clock.epochMs - facts.probedAt;
        const level = clockSkewLevel(skew);
        const zone = [clock.timezone, clock.utcOffsetMinutes === null ? null : formatUtcOffset(clock.utcOffsetMinutes)]
          .filter(Boolean)
          .join(', ');
        return (
          <>
            {formatDateTime(clock.epochMs)}
            {zone ? <span className="muted"> ({zone})</span> : null}
            <div className={level === 'ok' ? 'cell-sub' : `cell-sub text-${level}`}>{describeClockSkew(skew)}</div>
          </>
        );
      }}
    </Later>
  );
}

/** Who the app logs in as, what it may do there, and the host's clock. */
export function AccessCard({ facts }: { facts: HostFacts }) {
  return (
    <Card title="Access">
      <dl className="facts">
        <Fact label="Privilege" testId="privilege">
          <Later facts={facts} section="privilege" value={facts.privilege}>
            {(privilege) => describePrivilege(privilege)}
          </Later>
        </Fact>
        {facts.privilege ? (
          <Fact label="Login">
            <span className="mono">
              {facts.privilege.user}
              {facts.privilege.uid === null ? '' : ` (uid ${facts.privilege.uid})`}
            </span>
          </Fact>
        ) : null}
        <Fact label="Host clock" testId="host-clock">
          <ClockFact facts={facts} />
        </Fact>
      </dl>
    </Card>
  );
}

/** Where the install would land: the filesystem under the install path and its free space. */
export function InstallPathCard({ facts }: { facts: HostFacts }) {
  const install = facts.installPath;
  return (
    <Card title="Install path" aside={install ? <span className="mono">{install.path}</span> : undefined}>
      {install === undefined ? (
        <p className="muted">Not in this snapshot; probe again.</p>
      ) : install === null ? (
        <Unknown facts={facts} section="installPath" />
      ) : (
        <dl className="facts">
          <Fact label="Exists up to">
            <span className="mono">{install.existingPath}</span>
          </Fact>
          <Fact label="Writable">
            {install.writable === null ? 'unknown' : install.writable ? 'Yes, without sudo' : 'No: needs sudo or root'}
          </Fact>
          <Fact label="Filesystem">
            <span className="mono">{install.filesystemMount}</span> <span className="muted mono">({install.filesystemDevice})</span>
          </Fact>
          <Fact label="Free" testId="install-free" bytes={install.availableBytes}>
            {formatBytes(install.availableBytes)} of {formatBytes(install.sizeBytes)}
          </Fact>
        </dl>
      )}
    </Card>
  );
}

/** "0.0.0.0", "::" mean every interface; anything else is one address. */
function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '*' || address === '[::]';
}

/** Ports grouped: each port once, with the addresses it is bound to. */
function groupPorts(ports: ListeningPort[]): Array<{ port: number; addresses: string[] }> {
  const byPort = new Map<number, Set<string>>();
  for (const { port, address } of ports) byPort.set(port, (byPort.get(port) ?? new Set()).add(address));
  return [...byPort.entries()].sort(([a], [b]) => a - b).map(([port, addresses]) => ({ port, addresses: [...addresses].sort() }));
}

export function ListeningPortsCard({ facts }: { facts: HostFacts }) {
  const ports = facts.listeningPorts;
  const grouped = ports ? groupPorts(ports) : [];
  return (
    <Card title="Listening TCP ports" aside={ports && ports.length > 0 ? String(grouped.length) : undefined}>
      {ports === undefined ? (
        <p className="muted">Not in this snapshot; probe again.</p>
      ) : ports === null ? (
        <Unknown facts={facts} section="listeningPorts" />
      ) : grouped.length === 0 ? (
        <p className="muted">Nothing listens on TCP.</p>
      ) : (
        <ul className="port-list" data-testid="listening-ports">
          {grouped.map(({ port, addresses }) => (
            <li key={port} className="port" title={addresses.join(', ')}>
              <span className="figure port-number">{port}</span>
              <span className="port-where">{addresses.some(isWildcard) ? 'all interfaces' : addresses.join(', ')}</span>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
