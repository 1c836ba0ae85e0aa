import { useState, type ReactNode } from 'react';
import type { DiskFacts, FilesystemFacts, GpuFacts, HostFacts, HostSummary, NetworkInterfaceFacts } from '../../../electron/contract';
import { useHostDetail, useProbeHost } from '../api/queries';
import { Card, Fact } from '../ui/card';
import { DataTable, type Column } from '../ui/data-table';
import { EmptyState, ErrorNotice, QueryState } from '../ui/query-state';
import { RelativeTime } from '../ui/relative-time';
import { Unknown } from './unknown-fact';
import { UsageBar } from '../ui/usage-bar';
import { formatBytes } from '../format/bytes';
import { formatGhz, formatLinkSpeed, shareOf } from '../format/number';
import { hrefFor } from '../router/route';
import { ConnectionCard } from './host-connection-card';
import { HistoryCard } from './host-history';
import { AccessCard, InstallPathCard, ListeningPortsCard, PlatformFacts } from './host-platform-facts';
import { PreflightCard } from '../preflight/host-preflight';
import { HostRuntimeSection } from '../fleet/host/host-runtime-section';
import { HostChartsCard } from '../fleet/host/host-charts';
import { useFleetLinks } from '../fleet/use-fleet-links';
import { DeniedNote } from '../operators/denied-note';
import { useAllowed } from '../operators/use-session';

function SystemCard({ facts }: { facts: HostFacts }) {
  const { os } = facts;
  const version = [os.release, os.codename ? `(${os.codename})` : ''].filter(Boolean).join(' ');
  return (
    <Card title="System">
      <dl className="facts">
        <Fact label="OS">{os.distro || os.platform}</Fact>
        <Fact label="Version">{version}</Fact>
        <Fact label="Kernel">{os.kernel}</Fact>
        <Fact label="Architecture">{os.arch}</Fact>
        <Fact label="Hostname">{os.hostname}</Fact>
        <PlatformFacts facts={facts} />
      </dl>
    </Card>
  );
}

function CpuCard({ facts }: { facts: HostFacts }) {
  const { cpu } = facts;
  return (
    <Card title="CPU">
      {cpu === null ? (
        <Unknown facts={facts} section="cpu" />
      ) : (
        <dl className="facts">
          <Fact label="Model">{cpu.model}</Fact>
          <Fact label="Vendor">{cpu.vendor}</Fact>
          <Fact label="Sockets">{cpu.sockets}</Fact>
          <Fact label="Cores">{cpu.cores}</Fact>
          <Fact label="Threads" testId="cpu-threads">
            {cpu.threads}
          </Fact>
          <Fact label="Speed">{formatGhz(cpu.speedGhz)}</Fact>
          {/* Only the instruction sets that decide which model builds can run. */}
          <Fact label="Flags" testId="cpu-flags">
            {cpu.flags.length ? cpu.flags.join(' ') : 'none of note'}
          </Fact>
        </dl>
      )}
    </Card>
  );
}

function MemoryCard({ facts }: { facts: HostFacts }) {
  const { memory } = facts;
  return (
    <Card title="Memory">
      {memory === null ? (
        <Unknown facts={facts} section="memory" />
      ) : (
        <dl className="facts">
          <Fact label="Total" testId="memory-total" bytes={memory.totalBytes}>
            {formatBytes(memory.totalBytes)}
          </Fact>
          <Fact label="Swap">{memory.swapTotalBytes > 0 ? formatBytes(memory.swapTotalBytes) : 'None'}</Fact>
        </dl>
      )}
    </Card>
  );
}

const GPU_COLUMNS: Array<Column<GpuFacts>> = [
  { header: 'Model', cell: (gpu) => gpu.model },
  { header: 'Vendor', cell: (gpu) => gpu.vendor },
  { header: 'Memory', numeric: true, cell: (gpu) => (gpu.memoryBytes === null ? '—' : formatBytes(gpu.memoryBytes)) },
  { header: 'Driver', cell: (gpu) => gpu.driverVersion ?? '—' },
  { header: 'CUDA', cellProps: () => ({ 'data-testid': 'gpu-cuda' }), cell: (gpu) => gpu.cudaVersion ?? '—' },
  { header: 'Bus', className: 'mono', cell: (gpu) => gpu.bus ?? '—' },
];

function GpuTable({ gpus }: { gpus: GpuFacts[] }) {
  return <DataTable columns={GPU_COLUMNS} rows={gpus} rowKey={(gpu, index) => `${gpu.bus ?? ''}-${index}`} />;
}

function rotationalText(rotational: boolean | null): string {
  if (rotational === null) return '—';
  return rotational ? 'Yes (HDD)' : 'No';
}

const DISK_COLUMNS: Array<Column<DiskFacts>> = [
  { header: 'Device', className: 'mono', cell: (disk) => disk.device },
  { header: 'Model', cell: (disk) => disk.model || '—' },
  { header: 'Type', cell: (disk) => disk.type || '—' },
  { header: 'Size', numeric: true, cell: (disk) => formatBytes(disk.sizeBytes) },
  { header: 'Rotational', cell: (disk) => rotationalText(disk.rotational) },
];

function DiskTable({ disks }: { disks: DiskFacts[] }) {
  return <DataTable columns={DISK_COLUMNS} rows={disks} rowKey={(disk) => disk.device} />;
}

const FILESYSTEM_COLUMNS: Array<Column<FilesystemFacts>> = [
  { header: 'Mount', className: 'mono', cell: (fs) => fs.mount },
  { header: 'Device', className: 'mono cell-clip', cellProps: (fs) => ({ title: fs.device }), cell: (fs) => fs.device },
  { header: 'Type', cell: (fs) => fs.type },
  { header: 'Size', numeric: true, cell: (fs) => formatBytes(fs.sizeBytes) },
  { header: 'Used', numeric: true, cell: (fs) => formatBytes(fs.usedBytes) },
  { header: 'Free', numeric: true, cell: (fs) => formatBytes(fs.availableBytes) },
  {
    header: 'Usage',
    headerClassName: 'col-usage',
    cell: (fs) => <UsageBar percent={shareOf(fs.usedBytes, fs.usedBytes + fs.availableBytes)} />,
  },
];

function FilesystemTable({ filesystems }: { filesystems: FilesystemFacts[] }) {
  return <DataTable columns={FILESYSTEM_COLUMNS} rows={filesystems} rowKey={(fs) => `${fs.mount}-${fs.device}`} />;
}

function Addresses({ nic }: { nic: NetworkInterfaceFacts }) {
  if (nic.addresses.length === 0) return <span className="muted">No address</span>;
  return (
    <ul className="address-list">
      {[...nic.addresses]
        .sort((a, b) => (a.family === b.family ? 0 : a.family === 'IPv4' ? -1 : 1))
        .map((a) => (
          <li key={`${a.family}-${a.address}`} className="mono">
            {a.address}
          </li>
        ))}
    </ul>
  );
}

const NETWORK_COLUMNS: Array<Column<NetworkInterfaceFacts>> = [
  {
    header: 'Interface',
    className: 'mono',
    cell: (nic) => (
      <>
        {nic.name}
        {nic.internal ? <span className="tag">loopback</span> : null}
      </>
    ),
  },
  { header: 'Addresses', cell: (nic) => <Addresses nic={nic} /> },
  { header: 'MAC', className: 'mono', cell: (nic) => nic.mac || '—' },
  { header: 'Speed', numeric: true, cell: (nic) => formatLinkSpeed(nic.speedMbps) },
];

function NetworkTable({ interfaces }: { interfaces: NetworkInterfaceFacts[] }) {
  // Real interfaces first; loopback last, it rarely matters to an operator.
  const ordered = [...interfaces].sort((a, b) => Number(a.internal) - Number(b.internal));
  return <DataTable columns={NETWORK_COLUMNS} rows={ordered} rowKey={(nic) => nic.name} />;
}

/** A card holding one table of facts, or why there is none: not found, or unknown. */
function TableSection<T>({
  title,
  facts,
  section,
  items,
  emptyText,
  children,
}: {
  title: string;
  facts: HostFacts;
  section: string;
  items: T[] | null;
  emptyText: string;
  children: (items: T[]) => ReactNode;
}) {
  let body: ReactNode;
  if (items === null) body = <Unknown facts={facts} section={section} />;
  else if (items.length === 0) body = <p className="muted">{emptyText}</p>;
  else body = <div className="table-scroll">{children(items)}</div>;
  return (
    <Card title={title} aside={items && items.length > 0 ? `${items.length}` : undefined}>
      {body}
    </Card>
  );
}

function UnknownList({ facts }: { facts: HostFacts }) {
  if (facts.unknown.length === 0) return null;
  return (
    <Card title="What the probe could not read">
      <ul className="unknown-list">
        {facts.unknown.map((u) => (
          <li key={u.field}>
            <span className="mono">{u.field}</span> <span className="unknown">unknown: {u.reason}</span>
          </li>
        ))}
      </ul>
    </Card>
  );
}

/** Key problems are solved in the Connection card, so the probe's error offers the way there. */
const KEY_ERRORS = new Set(['HOST_KEY_MISMATCH', 'HOST_KEY_UNKNOWN']);

function HostHeader({ host, onCheckKey }: { host: HostSummary; onCheckKey: () => void }) {
  const probe = useProbeHost();
  const hostId = host.id;
  // Probes are stored: an operator's, not a viewer's; with the host, an access policy (abac) can refuse it too, naming its rule.
  const probing = useAllowed('probe', { hostId });
  const keyProblem = probe.error !== null && KEY_ERRORS.has(probe.error.code);
  return (
    <>
      <header className="page-head">
        <div>
          <h1>
            {host.name} <span className={`badge badge-${host.kind}`}>{host.kind === 'local' ? 'Local' : 'SSH'}</span>
          </h1>
          <p className="page-sub">
            {host.address && host.address !== host.name ? <>{host.address} · </> : null}
            Last probed <RelativeTime ms={host.lastProbedAt} never="never" testId="last-probed" />
          </p>
        </div>
        <button
          type="button"
          className="button button-primary"
          onClick={() => probe.mutate({ hostId })}
          disabled={probe.isPending || !probing.allowed}
          title={probing.reason ?? undefined}
        >
          {probe.isPending ? 'Probing…' : 'Probe again'}
        </button>
      </header>
      <DeniedNote allowed={probing} testId="probe-denied" />
      {probe.isError ? (
        <div className="probe-failure" data-testid="probe-failure">
          <ErrorNotice
            title="The probe failed"
            error={probe.error}
            onRetry={() => probe.mutate({ hostId })}
            actions={
              keyProblem ? (
                <button
                  type="button"
                  className="button"
                  onClick={() => {
                    probe.reset();
                    onCheckKey();
                  }}
                >
                  Check host key
                </button>
              ) : undefined
            }
          />
        </div>
      ) : null}
    </>
  );
}

/**
 * This machine's charts, from the app's own sampler, where no install's runtime section
 * draws them already (an installed host's charts sit with its runtime, above the facts).
 */
function OwnMachineCharts({ host, atMs }: { host: HostSummary; atMs: number | undefined }) {
  const links = useFleetLinks();
  if (host.kind !== 'local' || links.byHost.has(host.id)) return null;
  return <HostChartsCard key={host.id} hostId={host.id} processes={false} atMs={atMs} />;
}

function HostFactsView({ facts, host, atMs }: { facts: HostFacts; host: HostSummary; atMs: number | undefined }) {
  return (
    <>
      <div className="card-grid">
        <SystemCard facts={facts} />
        <CpuCard facts={facts} />
        <MemoryCard facts={facts} />
      </div>
      <OwnMachineCharts host={host} atMs={atMs} />
      <div className="card-grid">
        <AccessCard facts={facts} />
        <InstallPathCard facts={facts} />
        <ListeningPortsCard facts={facts} />
      </div>
      <PreflightCard hostId={host.id} />
      <TableSection title="GPUs" facts={facts} section="gpus" items={facts.gpus} emptyText="No GPU found">
        {(gpus) => <GpuTable gpus={gpus} />}
      </TableSection>
      <TableSection title="Filesystems" facts={facts} section="filesystems" items={facts.filesystems} emptyText="No filesystems found">
        {(filesystems) => <FilesystemTable filesystems={filesystems} />}
      </TableSection>
      <TableSection title="Disks" facts={facts} section="disks" items={facts.disks} emptyText="No disks found">
        {(disks) => <DiskTable disks={disks} />}
      </TableSection>
      <TableSection
        title="Network interfaces"
        facts={facts}
        section="network"
        items={facts.network}
        emptyText="No network interfaces found"
      >
        {(nics) => <NetworkTable interfaces={nics} />}
      </TableSection>
      <HistoryCard hostId={host.id} />
      <UnknownList facts={facts} />
    </>
  );
}

/** One host; `atMs` (an event's second) centres its charts on that time. */
export function HostPage({ hostId, atMs }: { hostId: number; atMs?: number }) {
  const detail = useHostDetail(hostId);
  const [checkingKey, setCheckingKey] = useState(false);
  // With the host: an install's access policy (abac) disables them too, naming the rule.
  const probing = useAllowed('probe', { hostId });
  const trusting = useAllowed('trust-key', { hostId });
  return (
    <section className="page">
      <a className="back-link" href={hrefFor({ name: 'hosts' })}>
        ← All hosts
      </a>
      <QueryState query={detail} loadingLabel="Loading the host…" errorTitle="Could not load this host">
        {({ host, facts }) => (
          <>
            <HostHeader host={host} onCheckKey={() => setCheckingKey(true)} />
            {host.kind === 'ssh' ? <ConnectionCard host={host} checkingKey={checkingKey} onCheckingKey={setCheckingKey} /> : null}
            {/* An installed host's runtime (link, processes, charts) on the host's one page; nothing for a host no install reached. */}
            <HostRuntimeSection hostId={host.id} atMs={atMs} />
            {facts === null ? (
              <>
                <EmptyState title="Not probed yet">
                  {!probing.allowed
                    ? 'An operator or admin collects its hardware facts with “Probe again”; they show here once it has been probed.'
                    : host.kind === 'ssh' && host.hostKey === null
                      ? trusting.allowed
                        ? 'Confirm its host key (“Check host key” above), then use “Probe again” to collect its hardware facts.'
                        : 'An admin confirms its host key first (“Check host key” above shows it); then “Probe again” collects its hardware facts.'
                      : 'Use “Probe again” to collect this machine’s hardware facts.'}
                </EmptyState>
                <OwnMachineCharts host={host} atMs={atMs} />
                <PreflightCard hostId={hostId} />
              </>
            ) : (
              <HostFactsView facts={facts} host={host} atMs={atMs} />
            )}
          </>
        )}
      </QueryState>
    </section>
  );
}
