import {
  ApiError,
  type ClockFacts,
  type FilesystemFacts,
  type HostFacts,
  type InitSystemFacts,
  type InstallPathFacts,
  type ListeningPort,
  type NetworkInterfaceFacts,
  type PrivilegeFacts,
  type UnknownFact,
  visibleStrings,
  visibleText,
} from '../../contract';
import { classifyVirtualization } from './classify-virtualization';
import { PSEUDO_FS, osFamily } from './map-systeminformation';
import { hasNvidiaOnBus, mergeGpus, type SysPciGpu } from './merge-gpus';
import { diskFromLsblk, diskFromSysBlock, parseLsblkPairs } from './parse-lsblk';
import { parseLspciLine, type LspciDevice } from './parse-lspci';
import { parseNvidiaSmiGpuLine, parseNvidiaSmiHeader, type NvidiaSmiGpu } from './parse-nvidia-smi';
import { nodeArchFromMachine, unquoteOsReleaseValue } from './parse-os-release';
import { cpuFactsFromCpuinfo } from './parse-proc-cpuinfo';
import {
  assignIpv4Addresses,
  decodeProcNetSocket,
  ipv6FromHex,
  isLittleEndianMachine,
  parseSsLocalAddress,
  uniqueListeningPorts,
} from './parse-proc-net';

/**
 * Reads what resources/probe/probe.sh printed (its header comment is the format's
 * spec) into HostFacts. The framing is strict: a wrong header, a missing `done` or END
 * line, a line count that does not match, or a record of ours that does not parse is
 * PROBE_OUTPUT_INVALID naming the line. Lines that carry another tool's raw output
 * (lsblk, nvidia-smi, lspci, ss) are looser: one that does not parse is noted in
 * `unknown`, since a tool's new version must not fail the whole probe.
 */
export const PROBE_FORMAT_VERSION = 1;
const HEADER = `SUTAZAI-PROBE ${PROBE_FORMAT_VERSION}`;

type FieldKind = 'text' | 'uint' | 'uint?' | 'bit';
const TEXT1: FieldKind[] = ['text'];
const TEXT2: FieldKind[] = ['text', 'text'];
const DF: FieldKind[] = ['text', 'text', 'uint', 'uint', 'uint', 'text'];

/** Every record type of format 1 and the kind of each of its fields. */
const RECORDS: Readonly<Record<string, FieldKind[]>> = {
  clock: ['uint', 'uint?', 'text', 'text', 'text'],
  host: TEXT1,
  'machine-id': TEXT1,
  'os-release': TEXT2,
  uname: ['text', 'text', 'text'],
  cpuinfo: TEXT2,
  'cpu-count': ['text', 'uint'],
  'cpu-topology': ['text', 'uint'],
  'cpu-freq': ['text', 'uint'],
  meminfo: ['text', 'uint'],
  'virt-tool': TEXT2,
  'virt-hint': TEXT2,
  init: ['text', 'bit', 'bit'],
  lsblk: TEXT1,
  'sys-block': ['text', 'uint', 'text', 'text'],
  fs: DF,
  install: ['text', 'text', 'bit'],
  'install-fs': DF,
  'nvidia-gpu': TEXT1,
  'nvidia-header': TEXT1,
  'pci-gpu': ['text', 'text', 'text', 'text', 'text', 'uint?'],
  lspci: TEXT1,
  nic: ['text', 'text', 'text', 'text', 'text'],
  addr: ['text', 'text', 'text'],
  'inet6-raw': ['text', 'text', 'text'],
  'inet4-local': TEXT1,
  route4: ['text', 'text', 'text'],
  'listen-raw': TEXT2,
  'ss-listen': TEXT1,
  priv: ['text', 'uint?', 'text', 'text'],
  unknown: TEXT2,
  fatal: TEXT1,
};

const PRIVILEGE_LEVELS = new Set(['root', 'sudo-nopasswd', 'sudo-password', 'none', 'unknown']);

export interface ProbeRecord {
  type: string;
  fields: string[];
  /** 1-based line number in the raw output. */
  line: number;
}

export interface ParseProbeOptions {
  /** Names the host in error messages. */
  host?: string;
  /** When the probe ran (ms since the epoch); defaults to now(). */
  probedAt?: number;
  now?: () => number;
}

const REMEDY_TRUNCATED =
  'The output stopped early: the connection dropped or the probe was killed on the host (out of memory, a session time limit). Probe again; if it keeps happening, check the network and the host log (journalctl, dmesg).';
const REMEDY_GARBLED =
  'Something changed the output on its way. Probe again; if it repeats, make sure nothing on the host (login scripts, a wrapper around sh) writes into the session, and send the app log with your report.';
const REMEDY_NO_HEADER =
  'The script did not run or something else answered. Check that the host has /bin/sh and that its login scripts (~/.bashrc, ~/.profile) print nothing when there is no terminal, then probe again.';

/** Splits the output into records, checking header, trailer, count and escapes. */
export function readProbeRecords(text: string, options: ParseProbeOptions = {}): ProbeRecord[] {
  const from = options.host ? ` from ${options.host}` : '';
  const fail = (line: number | null, what: string, remedy: string) =>
    new ApiError('PROBE_OUTPUT_INVALID', `The probe output${from} is unusable${line === null ? '' : ` at line ${line}`}: ${what}.`, remedy);

  if (text.trim() === '') throw fail(null, 'the probe printed nothing', REMEDY_NO_HEADER);
  const complete = text.endsWith('\n');
  const lines = text.split('\n');
  if (complete) lines.pop();

  // Login scripts may print a banner first; the probe's output starts at its header.
  const h = lines.findIndex((l) => l.startsWith('SUTAZAI-PROBE'));
  if (h < 0) throw fail(1, `no SUTAZAI-PROBE header; it begins with ${quote(lines[0] ?? '')}`, REMEDY_NO_HEADER);
  if (lines[h] !== HEADER) {
    const version = /^SUTAZAI-PROBE (\d+)$/.exec(lines[h]!)?.[1];
    if (version) {
      throw fail(
        h + 1,
        `it is probe format ${version}, and this app reads format ${PROBE_FORMAT_VERSION}`,
        'The probe script and the app come from different releases; reinstall the app.',
      );
    }
    throw fail(h + 1, `the header is ${quote(lines[h]!)}, expected "${HEADER}"`, REMEDY_GARBLED);
  }

  let e = -1;
  for (let i = h + 1; i < lines.length; i++) {
    if (/^END \d+$/.test(lines[i]!) && (complete || i < lines.length - 1)) {
      e = i;
      break;
    }
  }
  const fatal = lines.slice(h + 1, e < 0 ? lines.length : e).find((l) => l.startsWith('fatal\t'));
  if (fatal !== undefined) {
    const reason = visibleText(unescapeField(fatal.slice('fatal\t'.length)) ?? fatal);
    throw new ApiError(
      'PROBE_FAILED',
      `The probe could not run${from}: ${reason}.`,
      'Install the missing tool on the host (every supported system ships it; a stripped-down image may not), then probe again.',
    );
  }
  if (e < 0) {
    const last = lines.length;
    const partial = complete ? '' : ' in the middle of a line';
    throw fail(last, `the output ends${partial} without the END line (after ${quote(lines[last - 1] ?? '')})`, REMEDY_TRUNCATED);
  }
  const expected = Number(lines[e]!.slice(4));
  if (expected !== e - h) {
    throw fail(e + 1, `END counts ${expected} lines but ${e - h} arrived`, expected > e - h ? REMEDY_TRUNCATED : REMEDY_GARBLED);
  }
  if (lines[e - 1] !== 'done') {
    throw fail(e, `the probe stopped before it finished (no "done" line; the last is ${quote(lines[e - 1] ?? '')})`, REMEDY_TRUNCATED);
  }

  const records: ProbeRecord[] = [];
  for (let i = h + 1; i < e - 1; i++) {
    const raw = lines[i]!;
    const lineNo = i + 1;
    if (raw.includes('\r')) throw fail(lineNo, 'a raw carriage return (the probe escapes every one)', REMEDY_GARBLED);
    const parts = raw.split('\t');
    const type = parts[0]!;
    const kinds = RECORDS[type];
    if (!kinds) throw fail(lineNo, `unknown record ${quote(type)}`, REMEDY_GARBLED);
    if (parts.length - 1 !== kinds.length) {
      throw fail(lineNo, `a "${type}" record has ${parts.length - 1} field(s), expected ${kinds.length}`, REMEDY_GARBLED);
    }
    const fields: string[] = [];
    for (let f = 1; f < parts.length; f++) {
      const value = unescapeField(parts[f]!);
      if (value === null) throw fail(lineNo, `field ${f} of a "${type}" record has a broken escape (${quote(parts[f]!)})`, REMEDY_GARBLED);
      const kind = kinds[f - 1]!;
      const ok = kind === 'text' || (kind === 'uint' ? /^\d+$/.test(value) : kind === 'uint?' ? /^\d*$/.test(value) : /^[01]$/.test(value));
      if (!ok)
        throw fail(
          lineNo,
          `field ${f} of a "${type}" record should be ${kind === 'bit' ? '0 or 1' : 'a whole number'}, not ${quote(value)}`,
          REMEDY_GARBLED,
        );
      fields.push(value);
    }
    records.push({ type, fields, line: lineNo });
  }
  return records;
}

/** \\ \t \n \r back to their characters; null for any other escape or a trailing backslash. */
export function unescapeField(text: string): string | null {
  if (!text.includes('\\')) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = text[++i];
    if (next === '\\') out += '\\';
    else if (next === 't') out += '\t';
    else if (next === 'n') out += '\n';
    else if (next === 'r') out += '\r';
    else return null;
  }
  return out;
}

/** A host's text inside one of our messages: cut short, control characters escaped. */
function quote(text: string): string {
  const shown = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  return `"${visibleText(shown)}"`;
}

/**
 * The probe's output → HostFacts with `source: 'ssh'`. Throws PROBE_OUTPUT_INVALID or
 * PROBE_FAILED. Every string in the facts is host-made, so every one leaves with its
 * control and bidi characters escaped (visibleStrings), whichever record it came from.
 */
export function parseProbeOutput(text: string, options: ParseProbeOptions = {}): HostFacts {
  return visibleStrings(factsFromRecords(readProbeRecords(text, options), options));
}

function factsFromRecords(records: ProbeRecord[], options: ParseProbeOptions): HostFacts {
  const from = options.host ? ` from ${options.host}` : '';
  const of = (type: string) => records.filter((r) => r.type === type);
  const one = (type: string) => of(type)[0];
  const pairs = (type: string) => new Map(of(type).map((r) => [r.fields[0]!, r.fields[1]!]));
  const invalidAt = (record: ProbeRecord, what: string) =>
    new ApiError('PROBE_OUTPUT_INVALID', `The probe output${from} is unusable at line ${record.line}: ${what}.`, REMEDY_GARBLED);

  const unknown: UnknownFact[] = [];
  const note = (field: string, reason: string) => {
    if (!unknown.some((u) => u.field === field)) unknown.push({ field, reason });
  };
  for (const r of of('unknown')) note(r.fields[0]!, r.fields[1]!);
  const isUnknown = (field: string) => unknown.some((u) => u.field === field);

  // System.
  const uname = one('uname')?.fields ?? ['', '', ''];
  const machine = uname[2]!;
  const littleEndian = isLittleEndianMachine(machine);
  const release = new Map([...pairs('os-release')].map(([k, v]) => [k, unquoteOsReleaseValue(v)]));
  const platform = uname[0]!.toLowerCase() || 'linux';
  const distro = release.get('NAME') || release.get('ID') || platform;
  const os: HostFacts['os'] = {
    platform,
    family: osFamily(platform, distro, `${release.get('ID') ?? ''} ${release.get('ID_LIKE') ?? ''}`),
    distro,
    release: release.get('VERSION_ID') ?? '',
    codename: release.get('VERSION_CODENAME') ?? '',
    kernel: uname[1]!,
    arch: nodeArchFromMachine(machine),
    hostname: one('host')?.fields[0] ?? '',
    id: release.get('ID') ?? null,
  };

  let machineId: string | null = null;
  const idRecord = one('machine-id');
  if (idRecord) {
    const id = idRecord.fields[0]!.trim().toLowerCase();
    if (/^[0-9a-f]{32}$/.test(id)) machineId = id;
    else note('machineId', `the machine id file holds ${quote(id)}, not 32 hex digits (a machine not booted yet since imaging?)`);
  }

  // CPU and memory.
  const cpuinfo = pairs('cpuinfo');
  const counted = (type: string) => {
    const map = new Map([...pairs(type)].map(([k, v]) => [k, Number(v)]));
    return map.size ? { threads: map.get('threads') ?? 0, sockets: map.get('sockets') ?? 0, cores: map.get('cores') ?? 0 } : null;
  };
  const maxKhz = pairs('cpu-freq').get('max-khz');
  const cpu = cpuFactsFromCpuinfo({
    fields: cpuinfo,
    counts: counted('cpu-count'),
    topology: counted('cpu-topology'),
    maxKhz: maxKhz === undefined ? null : Number(maxKhz),
    machine,
  });
  if (cpu === null) note('cpu', 'the probe read nothing about the CPU');
  const meminfo = pairs('meminfo');
  const memTotal = meminfo.get('MemTotal');
  const memory =
    memTotal === undefined ? null : { totalBytes: Number(memTotal) * 1024, swapTotalBytes: Number(meminfo.get('SwapTotal') ?? 0) * 1024 };
  if (memory === null) note('memory', 'no MemTotal in /proc/meminfo');

  // Virtualization and init.
  const tool = one('virt-tool');
  const virtualization = classifyVirtualization({
    tool: tool ? { container: tool.fields[0]!, vm: tool.fields[1]! } : null,
    hints: pairs('virt-hint'),
    cpuFlags: new Set((cpuinfo.get('flags') ?? '').split(/\s+/)),
    machine,
  });
  let initSystem: InitSystemFacts | null = null;
  const init = one('init');
  if (init) {
    const [pid1, runSystemd, runOpenrc] = init.fields as [string, string, string];
    if (pid1 === 'systemd' || runSystemd === '1') initSystem = { kind: 'systemd', pid1 };
    else if (pid1 === 'openrc-init' || runOpenrc === '1') initSystem = { kind: 'openrc', pid1 };
    else if (pid1 !== '') initSystem = { kind: 'other', pid1 };
    else note('initSystem', '/proc/1/comm is hidden from this user and /run shows neither systemd nor OpenRC');
  }

  // Disks and filesystems.
  let disks: HostFacts['disks'] = null;
  if (!isUnknown('disks')) {
    disks = [];
    for (const r of of('lsblk')) {
      const parsed = parseLsblkPairs(r.fields[0]!);
      if (!parsed) {
        note('disks.lsblk', `lsblk printed a line the probe does not understand: ${quote(r.fields[0]!)}`);
        continue;
      }
      const disk = diskFromLsblk(parsed);
      if (disk) disks.push(disk);
    }
    for (const r of of('sys-block')) {
      const disk = diskFromSysBlock(r.fields[0]!, Number(r.fields[1]), r.fields[2]!, r.fields[3]!);
      if (disk) disks.push(disk);
    }
  }
  const toFs = (r: ProbeRecord): FilesystemFacts => ({
    device: r.fields[0]!,
    type: r.fields[1]!,
    mount: r.fields[5]!,
    sizeBytes: Number(r.fields[2]) * 1024,
    usedBytes: Number(r.fields[3]) * 1024,
    availableBytes: Number(r.fields[4]) * 1024,
  });
  const filesystems = isUnknown('filesystems')
    ? null
    : of('fs')
        .map(toFs)
        .filter((f) => !PSEUDO_FS.has(f.type) && f.sizeBytes > 0);
  let installPath: InstallPathFacts | null = null;
  const install = one('install');
  const installFs = one('install-fs');
  if (install && installFs) {
    const fs = toFs(installFs);
    installPath = {
      path: install.fields[0]!,
      existingPath: install.fields[1]!,
      writable: install.fields[2] === '1',
      filesystemDevice: fs.device,
      filesystemMount: fs.mount,
      sizeBytes: fs.sizeBytes,
      availableBytes: fs.availableBytes,
    };
  } else note('installPath', 'df could not tell the filesystem of the install path');

  // GPUs.
  const nvidia: NvidiaSmiGpu[] = [];
  for (const r of of('nvidia-gpu')) {
    const gpu = parseNvidiaSmiGpuLine(r.fields[0]!);
    if (gpu) nvidia.push(gpu);
    else note('gpus.nvidia', `nvidia-smi printed a line the probe does not understand: ${quote(r.fields[0]!)}`);
  }
  const header = one('nvidia-header');
  const sysPci: SysPciGpu[] = of('pci-gpu').map((r) => ({
    slot: r.fields[0]!,
    classCode: r.fields[1]!,
    vendorId: r.fields[2]!,
    deviceId: r.fields[3]!,
    driver: r.fields[4]!,
    vramBytes: r.fields[5] === '' ? null : Number(r.fields[5]),
  }));
  const lspci: LspciDevice[] = [];
  for (const r of of('lspci')) {
    const device = parseLspciLine(r.fields[0]!);
    if (device) lspci.push(device);
    else note('gpus.model', `lspci printed a line the probe does not understand: ${quote(r.fields[0]!)}`);
  }
  const busScanned = !isUnknown('gpus.pci') || lspci.length > 0;
  const gpus =
    busScanned || nvidia.length > 0
      ? mergeGpus({ nvidia, nvidiaHeader: header ? parseNvidiaSmiHeader(header.fields[0]!) : null, sysPci, lspci })
      : null;
  if (gpus === null) note('gpus', 'neither nvidia-smi, lspci nor /sys/bus/pci could be read');
  // A missing nvidia-smi or lspci hides nothing where the bus has nothing it would tell about.
  const dropNotes = new Set<string>();
  if (busScanned && nvidia.length === 0 && !hasNvidiaOnBus(sysPci, lspci)) dropNotes.add('gpus.nvidia');
  if (gpus !== null && !gpus.some((g) => g.kind === 'pci' && g.model.startsWith('PCI device '))) dropNotes.add('gpus.model');

  // Network.
  const network = networkFacts(of('nic'), of('addr'), of('inet6-raw'), of('inet4-local'), of('route4'), littleEndian, invalidAt);
  if (network === null && !isUnknown('network')) note('network', 'the probe found no network interfaces');

  // Listening TCP ports.
  let listeningPorts: ListeningPort[] | null = null;
  if (!isUnknown('listeningPorts')) {
    const found: ListeningPort[] = [];
    for (const r of of('listen-raw')) {
      const family = r.fields[0] === '4' ? 4 : r.fields[0] === '6' ? 6 : null;
      const socket = family === null ? null : decodeProcNetSocket(r.fields[1]!, family, littleEndian);
      if (!socket) throw invalidAt(r, `a "listen-raw" record holds ${quote(r.fields.join(' '))}, not a /proc/net/tcp address`);
      found.push(socket);
    }
    for (const r of of('ss-listen')) {
      const socket = parseSsLocalAddress(r.fields[0]!);
      if (socket) found.push(socket);
      else note('listeningPorts', `ss printed an address the probe does not understand: ${quote(r.fields[0]!)}`);
    }
    listeningPorts = uniqueListeningPorts(found);
  }

  // Clock and privilege.
  let clock: ClockFacts | null = null;
  const clockRecord = one('clock');
  if (clockRecord) {
    const [seconds, nanos, offset, abbrev, zone] = clockRecord.fields as [string, string, string, string, string];
    const offsetMatch = /^([+-])(\d{2})(\d{2})$/.exec(offset);
    clock = {
      epochMs: Number(seconds) * 1000 + (nanos ? Math.floor(Number(nanos.padEnd(9, '0').slice(0, 9)) / 1e6) : 0),
      timezone: zone || abbrev || null,
      utcOffsetMinutes: offsetMatch ? (offsetMatch[1] === '-' ? -1 : 1) * (Number(offsetMatch[2]) * 60 + Number(offsetMatch[3])) : null,
    };
  }
  let privilege: PrivilegeFacts | null = null;
  const priv = one('priv');
  if (priv) {
    const [level, uid, user, verified] = priv.fields as [string, string, string, string];
    if (!PRIVILEGE_LEVELS.has(level)) throw invalidAt(priv, `unknown privilege level ${quote(level)}`);
    if (!['', '0', '1'].includes(verified)) throw invalidAt(priv, `the password check says ${quote(verified)}, not 1, 0 or nothing`);
    privilege = {
      level: level as PrivilegeFacts['level'],
      user,
      uid: uid === '' ? null : Number(uid),
      sudoPasswordVerified: verified === '' ? null : verified === '1',
    };
  } else note('privilege', 'the probe did not report privilege');

  return {
    probedAt: options.probedAt ?? (options.now ?? Date.now)(),
    source: 'ssh',
    os,
    cpu,
    memory,
    disks,
    filesystems,
    gpus,
    network,
    unknown: unknown.filter((u) => !dropNotes.has(u.field)),
    machineId,
    virtualization,
    initSystem,
    listeningPorts,
    clock,
    privilege,
    installPath,
  };
}

function networkFacts(
  nics: ProbeRecord[],
  addrs: ProbeRecord[],
  inet6: ProbeRecord[],
  inet4: ProbeRecord[],
  routes: ProbeRecord[],
  littleEndian: boolean,
  invalidAt: (record: ProbeRecord, what: string) => ApiError,
): NetworkInterfaceFacts[] | null {
  const byName = new Map<string, NetworkInterfaceFacts>();
  const get = (name: string) => {
    let nic = byName.get(name);
    if (!nic) {
      nic = { name, mac: '', addresses: [], internal: name === 'lo', speedMbps: null };
      byName.set(name, nic);
    }
    return nic;
  };
  for (const r of nics) {
    const [name, mac, type, , speed] = r.fields as [string, string, string, string, string];
    const nic = get(name);
    nic.mac = mac;
    nic.internal = type === '772'; // ARPHRD_LOOPBACK
    const mbps = Number(speed);
    nic.speedMbps = speed !== '' && Number.isFinite(mbps) && mbps > 0 ? mbps : null;
  }
  for (const r of addrs) {
    const [name, family, cidr] = r.fields as [string, string, string];
    if (family !== 'inet' && family !== 'inet6') throw invalidAt(r, `address family ${quote(family)}, expected inet or inet6`);
    get(name).addresses.push({ family: family === 'inet' ? 'IPv4' : 'IPv6', address: cidr.replace(/\/\d+$/, '') });
  }
  const assigned = assignIpv4Addresses(
    inet4.map((r) => r.fields[0]!),
    routes.map((r) => ({ iface: r.fields[0]!, destinationHex: r.fields[1]!, maskHex: r.fields[2]! })),
    littleEndian,
  );
  for (const { iface, address } of assigned) get(iface).addresses.push({ family: 'IPv4', address });
  for (const r of inet6) {
    const address = ipv6FromHex(r.fields[0]!);
    if (!address) throw invalidAt(r, `${quote(r.fields[0]!)} is not 32 hex digits`);
    get(r.fields[2]!).addresses.push({ family: 'IPv6', address });
  }
  if (byName.size === 0) return null;
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
