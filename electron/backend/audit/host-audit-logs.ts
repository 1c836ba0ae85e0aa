import path from 'node:path';
import { AUDIT_LOG_FILE, verifyAuditText } from '../../../agents-runtime/src/wire';
import {
  ApiError,
  MAX_HOST_AUDIT_LOG_BYTES,
  type ApiErrorBody,
  type AuditAnchor,
  type HostAuditVerification,
  type HostFacts,
  type MethodParams,
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

export interface HostAuditLogsDeps extends TargetDeps {
  installs: Pick<InstallsRepo, 'findByName' | 'hosts' | 'host' | 'installOfHost'>;
  factsOf(row: HostRow): Promise<HostFacts>;
  connectTimeoutMs?: number;
  configDir?: string;
}

/** Each runtime's own audit log, read from its host and verified here (`sutazai audit verify --host|--install`). */
export interface HostAuditLogs {
  verify(
    params: MethodParams<'audit.verifyHost'>,
  ): Promise<{ hosts: HostAuditVerification[]; unread: Array<{ host: string; error: ApiErrorBody }> }>;
}

/** The script's exit codes for a log it cannot hand over. */
const NO_FILE = 3;
const TOO_LARGE = 4;

/**
 * Reads `<state_dir>/audit.log` over SSH the way the install engine logs in to a recorded host
 * (its pinned key; as root where the install is system-wide, since the file is the daemon's,
 * 0600) and verifies it with the runtime's own verifier. The text is the host's: it is only
 * parsed, and what is said of it is seqs, line numbers and hashes the verifier checked.
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
      const owner = deps.installs.installOfHost(row.id);
      const record = owner ? deps.installs.host(owner.installId, row.id) : null;
      if (!record) throw hostNotInstalledError(row.name);
      return [{ row, record }];
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

  async function verifyHost(row: HostRow, record: InstallHostRow, anchor: AuditAnchor | undefined): Promise<HostAuditVerification> {
    if (record.mode === null || record.rootDir === null) throw hostNeverInstalledError(row.name);
    const layout = recordedLayout(recordedHostConfig(record, deps.configDir), record.mode, record.rootDir);
    const file = path.posix.join(layout.stateDir, AUDIT_LOG_FILE);
    const { session, shell } = await openHostShell(deps, row, await deps.factsOf(row), record.mode, timeoutMs);
    let result;
    try {
      // The size first (its own line), then at most the limit: a log growing meanwhile is cut at it, never read without end.
      const script = sh`f=${file}
[ -f "$f" ] || exit ${NO_FILE}
size=$(wc -c < "$f") || exit ${NO_FILE}
echo "$size"
[ "$size" -le ${MAX_HOST_AUDIT_LOG_BYTES} ] || exit ${TOO_LARGE}
head -c ${MAX_HOST_AUDIT_LOG_BYTES} "$f"`;
      result = await shell.run(script, { asRoot: record.mode === 'system', step: 'audit-read' });
    } finally {
      session.close();
    }
    const newline = result.stdout.indexOf('\n');
    const bytes = Number(newline < 0 ? NaN : result.stdout.slice(0, newline));
    if (result.code === TOO_LARGE)
      throw new ApiError(
        'AUDIT_HOST_LOG_TOO_LARGE',
        `The runtime's audit log on ${row.name} (${file}) is ${Number.isFinite(bytes) ? `${bytes} bytes` : 'too large'}, more than the ${MAX_HOST_AUDIT_LOG_BYTES / 1024 / 1024} MiB the control center reads.`,
        `Verify it on the host itself: \`sutazai-runtime audit-verify --config <its config>\`.`,
      );
    if (result.code !== 0 || !Number.isSafeInteger(bytes))
      throw new ApiError(
        'AUDIT_HOST_LOG_UNREADABLE',
        `The runtime's audit log on ${row.name} (${file}) could not be read${result.code === NO_FILE ? ': there is no such file' : ` (exit ${result.code ?? 'by signal'})`}.`,
        'A runtime writes it from its first start with this release: check that the runtime runs there, and that no one removed the file.',
      );
    const text = result.stdout.slice(newline + 1);
    return { host: row.name, file, bytes, ...verifyAuditText(text, anchor) };
  }

  return {
    async verify(params) {
      const hosts: HostAuditVerification[] = [];
      const unread: Array<{ host: string; error: ApiErrorBody }> = [];
      // One host after the other: each opens its own SSH login. One host asked for fails the call; an
      // install's host that cannot be read is reported beside the others, which are still verified.
      for (const { row, record } of recordedHosts(params)) {
        try {
          hosts.push(await verifyHost(row, record, params.anchor));
        } catch (error) {
          if (params.install === undefined || !(error instanceof ApiError)) throw error;
          unread.push({ host: row.name, error: error.toBody() });
        }
      }
      return { hosts, unread };
    },
  };
}
