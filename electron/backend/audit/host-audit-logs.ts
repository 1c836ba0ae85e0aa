import { randomBytes, X509Certificate } from 'node:crypto';
import path from 'node:path';
import { AUDIT_LOG_FILE, normalizeSerial, orderSegments, parseAuditRow, verifyAuditSegments } from '../../../agents-runtime/src/wire';
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
import { rawShell, sh, type ShellScript } from '../install/remote/shell-script';
import { hostNotInstalledError } from '../fleet/processes/process-errors';
import type { HostRow } from '../store/hosts-repo';
import type { HostAuditHead, HostAuditHeadsRepo, RuntimeIdentity } from '../store/host-audit-heads-repo';
import type { InstallHostRow, InstallsRepo } from '../store/installs-repo';
import { filterHostAuditEntries } from './host-audit-filter';
import { checkRememberedHead } from './remembered-head';

export interface HostAuditLogsDeps extends TargetDeps {
  installs: Pick<InstallsRepo, 'findByName' | 'hosts' | 'host' | 'installOfHost' | 'get'>;
  /** The head of each host's log last found intact: the implicit anchor (remembered-head.ts). */
  heads: HostAuditHeadsRepo;
  factsOf(row: HostRow): Promise<HostFacts>;
  now?: () => number;
  connectTimeoutMs?: number;
  configDir?: string;
  /** How a host is logged in to for the read; openHostShell (SSH) unless a test hands another shell. */
  openShell?: typeof openHostShell;
}

/** Each runtime's own audit log, read from its host and verified here (`sutazai audit verify --host|--install`, the Audit page). */
export interface HostAuditLogs {
  /**
   * Each log is checked against the head remembered from the last intact read of that host too,
   * and an intact one advances it; `by` is who verified (the operator and pipe), remembered with it.
   */
  verify(
    params: MethodParams<'audit.verifyHost'>,
    by: string,
  ): Promise<{ hosts: HostAuditVerification[]; unread: Array<{ host: string; error: ApiErrorBody }> }>;
  /** A page of one host's entries, newest first, with the verification of the whole log (as verify, the remembered head too). */
  log(params: MethodParams<'audit.hostLog'>, by: string): Promise<MethodResult<'audit.hostLog'>>;
  /** An admin's accepted reset: the log read now, intact by itself and holding `head`, which becomes the remembered head. */
  acceptReset(params: MethodParams<'audit.acceptHostReset'>, by: string): Promise<MethodResult<'audit.acceptHostReset'>>;
}

/** The script's exit codes for a log it cannot hand over. */
/**
 * Skips `$f` unless it is a plain file (not a symlink: the read runs as root) named as the
 * runtime names segments: `audit.log`, `audit.log.<digits>` or `audit.log.<digits>.<digits>`
 * (orderSegments). A looser pattern let a name with a line break in it forge a marker line.
 */
const SEGMENT_NAME_FILTER = rawShell(`case "$f" in
    audit.log) ;;
    audit.log.[0-9]*) case "\${f#audit.log.}" in *[!0-9.]*|*.|*..*|*.*.*) continue ;; esac ;;
    *) continue ;;
  esac
  [ -L "$f" ] && continue
  [ -f "$f" ] || continue`);

export const NO_FILE = 3;
export const TOO_LARGE = 4;
export const ROTATED = 5;

interface ReadLog {
  verification: HostAuditVerification;
  entries: RuntimeAuditEntry[];
  /** The runtime whose log it is: the install that put it there and its state directory. */
  identity: RuntimeIdentity;
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
  const now = deps.now ?? Date.now;

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
    const { session, shell } = await (deps.openShell ?? openHostShell)(deps, row, await deps.factsOf(row), record.mode, timeoutMs);
    let result;
    try {
      const script = hostAuditReadScript(layout.stateDir, marker);
      // The log's bytes as written: masking the sudo password in them would fake edits (its hash is checked).
      const readOptions = { asRoot: record.mode === 'system', step: 'audit-read', exactStdout: true };
      result = await shell.run(script, readOptions);
      // Once more, not in a loop: a log sealed during two reads in a row is reported, not chased.
      if (result.code === ROTATED) result = await shell.run(script, readOptions);
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
    if (result.code === ROTATED)
      throw new ApiError(
        'AUDIT_HOST_LOG_UNREADABLE',
        `The runtime's audit log on ${row.name} (${file}) was sealed into a new segment while it was read, twice in a row: it was not verified.`,
        'Run the verify again; if it keeps happening, the runtime is writing entries faster than they can be read: verify on the host (`sutazai-runtime audit-verify`).',
      );
    if (result.code !== 0 || !Number.isSafeInteger(bytes))
      throw new ApiError(
        'AUDIT_HOST_LOG_UNREADABLE',
        `The runtime's audit log on ${row.name} (${file}) could not be read${result.code === NO_FILE ? ': there is no such file' : ` (exit ${result.code ?? 'by signal'})`}.`,
        'A runtime writes it from its first start with this release: check that the runtime runs there, and that no one removed the file.',
      );
    const { segments, duplicate } = splitSegments(result.stdout.slice(newline + 1), marker);
    const verified = verifyAuditSegments(segments, anchor);
    if (duplicate !== null)
      // The script names each file once: a name read twice is a file made to pass for a segment.
      verified.broken = {
        seq: 1,
        kind: 'edited',
        message: `Two files on the host were read as ${JSON.stringify(duplicate.slice(0, 40))}: one was named to pass for a segment (a name with a line break in it), so the log was tampered with.`,
      };
    const entries = segments.flatMap((segment) =>
      segment.text.split('\n').flatMap((line) => {
        const entry = line === '' ? null : parseAuditRow(line);
        return entry === null ? [] : [entry];
      }),
    );
    const install = deps.installs.get(record.installId);
    const identity = {
      installId: record.installId,
      installName: install?.name ?? `#${record.installId}`,
      installCaSerial: caSerialOf(install?.caCert ?? null),
      stateDir: layout.stateDir,
    };
    return { verification: { host: row.name, file, bytes, remembered: null, rememberedError: null, ...verified }, entries, identity };
  }

  /**
   * The log as read, checked against the head remembered of this host (checkRememberedHead);
   * when it is intact and holds that head, its own head is remembered in its place. `before` is
   * the head remembered when the read began: another read of the host (another operator, the
   * Audit page) may have advanced it while this one was on the wire, and a log read before that
   * advance need not hold the newer head. Such a read is checked against the head it began with;
   * it then advances nothing (the newer head stays, never moved back, and the next read is
   * checked against it, so a cut made meanwhile is still found).
   */
  function checkedAgainstRemembered(row: HostRow, read: ReadLog, by: string, before: HostAuditHead | null): HostAuditVerification {
    const { verification, entries, identity } = read;
    const hashes = new Map(entries.map((entry) => [entry.seq, entry.hash]));
    const checkAgainst = (remembered: HostAuditHead | null) =>
      checkRememberedHead({ host: row.name, remembered, identity, verification, hashAt: (seq) => hashes.get(seq) ?? null });
    const current = deps.heads.get(row.id);
    let check = checkAgainst(current);
    let movedMeanwhile = false;
    if (check.error !== null && !sameHead(before, current)) {
      const earlier = checkAgainst(before);
      if (earlier.error === null) {
        check = earlier;
        movedMeanwhile = true;
      }
    }
    const checked = {
      ...verification,
      remembered: check.remembered,
      rememberedError: check.error,
      ...(check.broken !== null ? { broken: check.broken } : {}),
    };
    if (checked.broken === null && checked.head !== null && !movedMeanwhile) deps.heads.advance(row.id, identity, checked.head, by, now());
    return checked;
  }

  return {
    async verify(params, by) {
      const hosts: HostAuditVerification[] = [];
      const unread: Array<{ host: string; error: ApiErrorBody }> = [];
      // One host after the other: each opens its own SSH login. One host asked for fails the call; an
      // install's host that cannot be read is reported beside the others, which are still verified.
      for (const { row, record } of recordedHosts(params)) {
        try {
          // Taken before the read: see checkedAgainstRemembered.
          const before = deps.heads.get(row.id);
          hosts.push(checkedAgainstRemembered(row, await readLog(row, record, params.anchor), by, before));
        } catch (error) {
          if (params.install === undefined || !(error instanceof ApiError)) throw error;
          unread.push({ host: row.name, error: error.toBody() });
        }
      }
      return { hosts, unread };
    },
    async log(params, by) {
      const row = deps.hosts.get(params.hostId);
      if (!row) throw hostNotFoundError(String(params.hostId));
      const record = installedRecord(row);
      const before = deps.heads.get(row.id);
      const read = await readLog(row, record, undefined);
      return { verification: checkedAgainstRemembered(row, read, by, before), ...filterHostAuditEntries(read.entries, params) };
    },
    async acceptReset(params, by) {
      const row = deps.hosts.findByName(params.host);
      if (!row) throw hostNotFoundError(params.host);
      // The named entry is checked as an explicit anchor: the log must hold it, and be whole by itself.
      const read = await readLog(row, installedRecord(row), params.head);
      const { verification } = read;
      if (verification.broken !== null)
        throw new ApiError(
          'AUDIT_HOST_RESET_REFUSED',
          `The runtime's audit log on ${row.name} is not whole by itself, so it cannot be taken as a new start: ${verification.broken.kind} at entry ${verification.broken.seq}. ${verification.broken.message}`,
          `Name an entry the log holds now (the newest one the verify printed). A log edited, reordered or with a gap inside stays broken: keep its files as evidence, and move them aside on ${row.name} only once you know who changed them.`,
        );
      const before = deps.heads.get(row.id);
      const hashes = new Map(read.entries.map((entry) => [entry.seq, entry.hash]));
      const previous =
        before === null
          ? null
          : checkRememberedHead({
              host: row.name,
              remembered: before,
              identity: read.identity,
              verification,
              hashAt: (seq) => hashes.get(seq) ?? null,
            }).remembered;
      // A reset is for a log that fails its remembered head; one that holds it needs none (and moving the head back would weaken it).
      if (previous !== null && (previous.standing === 'held' || previous.standing === 'dropped'))
        throw new ApiError(
          'AUDIT_HOST_RESET_REFUSED',
          `The runtime's audit log on ${row.name} still holds the entry remembered (entry ${previous.seq}, found intact ${new Date(previous.atMs).toISOString()}): there is no reset to accept.`,
          'Verify the log again: it advances the remembered entry by itself.',
          { cliRemedy: `Run \`sutazai audit verify --host ${row.name}\`: it advances the remembered entry by itself.` },
        );
      deps.heads.accept(row.id, read.identity, params.head, by, now());
      return { host: row.name, previous, head: params.head };
    },
  };
}

function sameHead(a: HostAuditHead | null, b: HostAuditHead | null): boolean {
  return a === null || b === null
    ? a === b
    : a.seq === b.seq && a.hash === b.hash && a.acceptedAt === b.acceptedAt && a.installCaSerial === b.installCaSerial;
}

/** The serial of an install's CA certificate (which install, beyond its id, which SQLite reuses); `unknown` without one. */
function caSerialOf(pem: string | null): string {
  try {
    return pem === null ? 'unknown' : normalizeSerial(new X509Certificate(pem).serialNumber);
  } catch {
    return 'unknown';
  }
}

/**
 * The script's output as segments, oldest first (by the runtime's names), each the text after
 * its marker line. A name the runtime would not have given (orderSegments' pattern) is left out.
 */
export function splitSegments(text: string, marker: string): { segments: Array<{ name: string; text: string }>; duplicate: string | null } {
  const byName = new Map<string, string[]>();
  let duplicate: string | null = null;
  let current: string[] | null = null;
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const line of lines) {
    if (line.startsWith(`${marker} `)) {
      current = [];
      const name = line.slice(marker.length + 1);
      if (byName.has(name)) duplicate ??= name;
      else byName.set(name, current);
    } else current?.push(line);
  }
  const segments = orderSegments([...byName.keys()]).map((name) => ({
    name,
    text: byName
      .get(name)!
      .map((line) => `${line}\n`)
      .join(''),
  }));
  return { segments, duplicate };
}

/** The read of every segment in `stateDir` (see readLog): the total size, then each segment after a marker line naming it. */
export function hostAuditReadScript(stateDir: string, marker: string): ShellScript {
  // The whole size first (its own line), then at most the limit of each: a log growing meanwhile is cut, never read without end.
  // The names are listed again at the end: a segment sealed (or dropped) during the read would
  // otherwise look like entries removed, so such a read is done again, once (ROTATED).
  return sh`cd ${stateDir} 2>/dev/null || exit ${NO_FILE}
total=0; found=0; names=""
for f in ${AUDIT_LOG_FILE} ${AUDIT_LOG_FILE}.*; do
  ${SEGMENT_NAME_FILTER}
  n=$(wc -c < "$f") || exit ${NO_FILE}
  total=$((total + n)); found=1; names="$names $f"
done
[ "$found" = 1 ] || exit ${NO_FILE}
echo "$total"
[ "$total" -le ${MAX_HOST_AUDIT_LOG_BYTES} ] || exit ${TOO_LARGE}
for f in ${AUDIT_LOG_FILE}.* ${AUDIT_LOG_FILE}; do
  ${SEGMENT_NAME_FILTER}
  printf '%s %s\\n' ${marker} "$f"
  head -c ${MAX_HOST_AUDIT_LOG_BYTES} "$f"
  [ -z "$(tail -c 1 "$f")" ] || echo
done
again=""
for f in ${AUDIT_LOG_FILE} ${AUDIT_LOG_FILE}.*; do
  ${SEGMENT_NAME_FILTER}
  again="$again $f"
done
[ "$names" = "$again" ] || exit ${ROTATED}`;
}
