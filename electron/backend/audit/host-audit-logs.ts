import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { AUDIT_LOG_FILE, orderSegments, parseAuditRow, verifyAuditSegments } from '../../../agents-runtime/src/wire';
import {
  ApiError,
  MAX_HOST_AUDIT_LOG_BYTES,
  type ApiErrorBody,
  type AuditAnchor,
  type HostAuditVerification,
  type HostFacts,
  type MethodParams,
  type MethodResult,
  type RuntimeAuditEntry,
} from '../../contract';
import type { TargetDeps } from '../hosts/build-ssh-target';
import { hostNotFoundError } from '../hosts/host-errors';
import { recordedLayout } from '../install/definition/install-layout';
import { recordedHostConfig } from '../install/engine/recorded-host-ops';
import { hostNeverInstalledError } from '../install/install-errors';
import { openHostShell } from '../install/remote/open-host-shell';
import { sh } from '../install/remote/shell-script';
import { hostNotInstalledError } from '../fleet/processes/process-errors';
import type { HostRow } from '../store/hosts-repo';
import type { InstallHostRow, InstallsRepo } from '../store/installs-repo';
import { filterHostAuditEntries } from './host-audit-filter';

export interface HostAuditLogsDeps extends TargetDeps {
  installs: Pick<InstallsRepo, 'findByName' | 'hosts' | 'host' | 'installOfHost'>;
  factsOf(row: HostRow): Promise<HostFacts>;
  connectTimeoutMs?: number;
  configDir?: string;
}

/** Each runtime's own audit log, read from its host and verified here (`sutazai audit verify --host|--install`, the Audit page). */
export interface HostAuditLogs {
  verify(
    params: MethodParams<'audit.verifyHost'>,
  ): Promise<{ hosts: HostAuditVerification[]; unread: Array<{ host: string; error: ApiErrorBody }> }>;
  /** A page of one host's entries, newest first, with the verification of the whole log. */
  log(params: MethodParams<'audit.hostLog'>): Promise<MethodResult<'audit.hostLog'>>;
}

/** The script's exit codes for a log it cannot hand over. */
const NO_FILE = 3;
const TOO_LARGE = 4;

interface ReadLog {
  verification: HostAuditVerification;
  entries: RuntimeAuditEntry[];
}

/**
 * Reads `<state_dir>/audit.log` and its sealed segments (`audit.log.<first seq>`) over SSH the
 * way the install engine logs in to a recorded host (its pinned key; as root where the install
 * is system-wide, since the files are the daemon's, 0600) and verifies them as one chain with
 * the runtime's own verifier. The text is the host's: it is only parsed, and what is said of it
 * is seqs, line numbers, file names the runtime's pattern allows and hashes the verifier checked.
 */
export function createHostAuditLogs(deps: HostAuditLogsDeps): HostAuditLogs {
  const timeoutMs = deps.connectTimeoutMs ?? 20_000;

  function recordedHosts(params: MethodParams<'audit.verifyHost'>): Array<{ row: HostRow; record: InstallHostRow }> {
    if ((params.host === undefined) === (params.install === undefined) || (params.anchor !== undefined && params.host === undefined))
      throw new ApiError(
        'BAD_PARAMS',
        params.anchor !== undefined && params.host === undefined
          ? "An anchor is an entry of one host's audit log, and no host was named."
          : 'Name either a host or an install whose runtimes’ audit logs to verify.',
        'Give a host (with or without an anchor), or an install (without one).',
        { cliRemedy: '`sutazai audit verify --host NAME [--anchor SEQ:HASH]` or `sutazai audit verify --install NAME`.' },
      );
    if (params.host !== undefined) {
      const row = deps.hosts.findByName(params.host);
      if (!row) throw hostNotFoundError(params.host);
      return [{ row, record: installedRecord(row) }];
    }
    const install = deps.installs.findByName(params.install!);
    if (!install)
      throw new ApiError('NOT_FOUND', `Nothing is installed under the name ${params.install}.`, 'Check the name on the Installs page.', {
        cliRemedy: 'List the installs with `sutazai installs list`.',
      });
    return deps.installs.hosts(install.id).flatMap((record) => {
      const row = deps.hosts.get(record.hostId);
      return row ? [{ row, record }] : [];
    });
  }

  function installedRecord(row: HostRow): InstallHostRow {
    const owner = deps.installs.installOfHost(row.id);
    const record = owner ? deps.installs.host(owner.installId, row.id) : null;
    if (!record) throw hostNotInstalledError(row.name);
    return record;
  }

  async function readLog(row: HostRow, record: InstallHostRow, anchor: AuditAnchor | undefined): Promise<ReadLog> {
    if (record.mode === null || record.rootDir === null) throw hostNeverInstalledError(row.name);
    const layout = recordedLayout(recordedHostConfig(record, deps.configDir), record.mode, record.rootDir);
    const file = path.posix.join(layout.stateDir, AUDIT_LOG_FILE);
    // Each segment's text follows a line only this read can know, so no line in a segment can pass for a boundary.
    const marker = `#sutazai-audit-segment-${randomBytes(12).toString('hex')}`;
    const { session, shell } = await openHostShell(deps, row, await deps.factsOf(row), record.mode, timeoutMs);
    let result;
    try {
      // The whole size first (its own line), then at most the limit of each: a log growing meanwhile is cut, never read without end.
      const script = sh`cd ${layout.stateDir} 2>/dev/null || exit ${NO_FILE}
total=0; found=0
for f in ${AUDIT_LOG_FILE} ${AUDIT_LOG_FILE}.*; do
  case "$f" in ${AUDIT_LOG_FILE}|${AUDIT_LOG_FILE}.[0-9]*) ;; *) continue ;; esac
  [ -f "$f" ] || continue
  n=$(wc -c < "$f") || exit ${NO_FILE}
  total=$((total + n)); found=1
done
[ "$found" = 1 ] || exit ${NO_FILE}
echo "$total"
[ "$total" -le ${MAX_HOST_AUDIT_LOG_BYTES} ] || exit ${TOO_LARGE}
for f in ${AUDIT_LOG_FILE}.* ${AUDIT_LOG_FILE}; do
  case "$f" in ${AUDIT_LOG_FILE}|${AUDIT_LOG_FILE}.[0-9]*) ;; *) continue ;; esac
  [ -f "$f" ] || continue
  printf '%s %s\\n' ${marker} "$f"
  head -c ${MAX_HOST_AUDIT_LOG_BYTES} "$f"
  [ -z "$(tail -c 1 "$f")" ] || echo
done`;
      result = await shell.run(script, { asRoot: record.mode === 'system', step: 'audit-read' });
    } finally {
      session.close();
    }
    const newline = result.stdout.indexOf('\n');
    const bytes = Number(newline < 0 ? NaN : result.stdout.slice(0, newline));
    if (result.code === TOO_LARGE)
      throw new ApiError(
        'AUDIT_HOST_LOG_TOO_LARGE',
        `The runtime's audit log on ${row.name} (${file} and its sealed segments) is ${Number.isFinite(bytes) ? `${bytes} bytes` : 'too large'}, more than the ${MAX_HOST_AUDIT_LOG_BYTES / 1024 / 1024} MiB the control center reads.`,
        'Verify it on the host itself (`sutazai-runtime audit-verify --config <its config>`), or lower runtime.audit.max_file_bytes or keep_files in the install’s configuration so that all of it fits.',
      );
    if (result.code !== 0 || !Number.isSafeInteger(bytes))
      throw new ApiError(
        'AUDIT_HOST_LOG_UNREADABLE',
        `The runtime's audit log on ${row.name} (${file}) could not be read${result.code === NO_FILE ? ': there is no such file' : ` (exit ${result.code ?? 'by signal'})`}.`,
        'A runtime writes it from its first start with this release: check that the runtime runs there, and that no one removed the file.',
      );
    const segments = splitSegments(result.stdout.slice(newline + 1), marker);
    const verified = verifyAuditSegments(segments, anchor);
    const entries = segments.flatMap((segment) =>
      segment.text.split('\n').flatMap((line) => {
        const entry = line === '' ? null : parseAuditRow(line);
        return entry === null ? [] : [entry];
      }),
    );
    return { verification: { host: row.name, file, bytes, ...verified }, entries };
  }

  return {
    async verify(params) {
      const hosts: HostAuditVerification[] = [];
      const unread: Array<{ host: string; error: ApiErrorBody }> = [];
      // One host after the other: each opens its own SSH login. One host asked for fails the call; an
      // install's host that cannot be read is reported beside the others, which are still verified.
      for (const { row, record } of recordedHosts(params)) {
        try {
          hosts.push((await readLog(row, record, params.anchor)).verification);
        } catch (error) {
          if (params.install === undefined || !(error instanceof ApiError)) throw error;
          unread.push({ host: row.name, error: error.toBody() });
        }
      }
      return { hosts, unread };
    },
    async log(params) {
      const row = deps.hosts.get(params.hostId);
      if (!row) throw hostNotFoundError(String(params.hostId));
      const { verification, entries } = await readLog(row, installedRecord(row), undefined);
      return { verification, ...filterHostAuditEntries(entries, params) };
    },
  };
}

/**
 * The script's output as segments, oldest first (by the runtime's names), each the text after
 * its marker line. A name the runtime would not have given (orderSegments' pattern) is left out.
 */
function splitSegments(text: string, marker: string): Array<{ name: string; text: string }> {
  const byName = new Map<string, string[]>();
  let current: string[] | null = null;
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const line of lines) {
    if (line.startsWith(`${marker} `)) {
      current = [];
      byName.set(line.slice(marker.length + 1), current);
    } else current?.push(line);
  }
  return orderSegments([...byName.keys()]).map((name) => ({
    name,
    text: byName
      .get(name)!
      .map((line) => `${line}\n`)
      .join(''),
  }));
}
