import {
  ApiError,
  type AuthInput,
  type HostDetail,
  type HostFacts,
  type HostSummary,
  type ImportError,
  type MethodResult,
  type ParsedHostInput,
  type PinnedKey,
} from '../../contract';
import type { z } from 'zod';
import type { HostChangesSchema } from '../../contract';
import type { SecretVault } from '../secrets/secret-vault';
import type { FactsRepo } from '../store/facts-repo';
import type { HostKeysRepo } from '../store/host-keys-repo';
import type { ProbeOutcomesRepo } from '../store/probe-outcomes-repo';
import type { HostRow, HostRowChanges, HostsRepo } from '../store/hosts-repo';
import { sharedOffThreadYaml } from '../untrusted-yaml/parse-off-thread';
import { matchesHost, parseKnownHosts, preferredKey } from './parse-known-hosts';
import { connectSsh, scanHostKey, type ScannedHostKey } from './ssh/connect-ssh';
import { loadPrivateKey, parsePrivateKeyText } from './ssh/load-private-key';
import { endpointOf, type SshEndpoint } from './ssh/ssh-endpoint';
import { HostKeyRefusedError } from './ssh/ssh-errors';
import { probeOverSsh } from './ssh/remote-probe';
import { buildSshTarget, MAX_JUMP_DEPTH, PRIVATE_KEY_PURPOSE, sudoPasswordOf } from './build-ssh-target';
import {
  confirmedKeyMismatchError,
  hostInUseError,
  hostIsLocalError,
  hostNameTakenError,
  hostNotFoundError,
  importJumpHostNotFoundError,
  importAgentRefusedError,
  importKeyFileRefusedError,
  jumpChainTooLongError,
  jumpHostNotFoundError,
  jumpLoopError,
  localJumpHostError,
  probeFailedError,
} from './host-errors';
import { summarizeHost } from './summarize-host';

export interface HostServiceDeps {
  hosts: HostsRepo;
  facts: FactsRepo;
  hostKeys: HostKeysRepo;
  probeOutcomes: ProbeOutcomesRepo;
  vault: SecretVault;
  probeLocal: () => Promise<HostFacts>;
  /** A host's facts, settings, key or presence changed: every open window refreshes it. */
  onHostChanged: (hostId: number) => void;
  /** Per-host limit for connect plus probe; an unreachable host fails within it. */
  probeTimeoutMs?: number;
  now?: () => number;
  /** Who is acting, for the record of trust decisions ('ui', 'cli'). */
  actor?: string;
}

export interface ProbeOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  onStep?: (step: 'connecting' | 'probing' | 'storing') => void;
}

/** The inventory as the API and the CLI see it. */
export interface HostService {
  require(idOrName: number | string): HostRow;
  /** Stores a new host, untrusted (imports, scripts, hosts offline now); the input is already parsed (HostInputSchema). */
  add(input: ParsedHostInput): Promise<HostSummary>;
  addTrusted(input: ParsedHostInput, fingerprint: string): Promise<HostSummary>;
  scanNew(input: ParsedHostInput): Promise<ScannedHostKey>;
  update(hostId: number, changes: z.output<typeof HostChangesSchema>): Promise<HostSummary>;
  remove(hostId: number): { removed: number };
  /**
   * `keyFiles` false (web mode): a row naming a key file on this machine (keyPath) or its SSH
   * agent (auth: agent) is refused, the others imported; a row naming no login comes in as a
   * key login waiting for its key (pasted in the host's settings), never with this machine's agent.
   */
  importList(text: string, fileName: string, options?: { keyFiles: boolean }): Promise<{ added: HostSummary[]; errors: ImportError[] }>;
  scanKey(hostId: number): Promise<MethodResult<'hosts.scanKey'>>;
  trust(hostId: number, fingerprint: string): Promise<HostSummary>;
  importKnownHosts(text: string): MethodResult<'hosts.importKnownHosts'>;
  probe(idOrName: number | string, options?: ProbeOptions): Promise<HostFacts>;
  /** One page of the inventory (hosts.list), or every host when no page is asked for. */
  list(page?: { after?: number | undefined; limit: number }): HostSummary[];
  get(idOrName: number | string): HostDetail;
  history(hostId: number, limit: number): Array<{ probedAt: number; facts: HostFacts }>;
  /** Facts for a host, probing first when none were ever stored (the CLI's first run). */
  factsOrProbe(idOrName: number | string): Promise<HostFacts>;
}

export function createHostService(deps: HostServiceDeps): HostService {
  const { hosts, facts, hostKeys, vault } = deps;
  const now = deps.now ?? Date.now;
  const probeTimeoutMs = deps.probeTimeoutMs ?? 20_000;
  // Two probes of the same host at once would race to store the same snapshot twice.
  const inFlight = new Map<number, Promise<HostFacts>>();

  function findHost(idOrName: number | string): HostRow {
    const row = typeof idOrName === 'number' ? hosts.get(idOrName) : (hosts.findByName(idOrName) ?? byNumericName(idOrName));
    if (!row) throw hostNotFoundError(idOrName);
    return row;
  }

  function byNumericName(value: string): HostRow | undefined {
    return /^\d+$/.test(value) ? hosts.get(Number(value)) : undefined;
  }

  function summary(row: HostRow): HostSummary {
    return summarizeHost(row, facts.latest(row.id), hostKeys.get(row.id), deps.probeOutcomes.get(row.id));
  }

  function requireSsh(row: HostRow): void {
    if (row.kind !== 'ssh') throw hostIsLocalError(row.name);
  }

  function checkNameFree(name: string, exceptId?: number): void {
    const existing = hosts.findByName(name);
    if (existing && existing.id !== exceptId) throw hostNameTakenError(name, existing.address);
  }

  function checkJump(selfId: number | null, jumpHostId: number | null): void {
    if (jumpHostId === null) return;
    let cursor = hosts.get(jumpHostId);
    if (!cursor) throw jumpHostNotFoundError(jumpHostId);
    if (cursor.kind !== 'ssh') throw localJumpHostError();
    for (let hops = 0; cursor; hops++) {
      if (cursor.id === selfId) throw jumpLoopError();
      if (hops >= MAX_JUMP_DEPTH) throw jumpChainTooLongError(MAX_JUMP_DEPTH);
      cursor = cursor.jumpHostId === null ? undefined : hosts.get(cursor.jumpHostId);
    }
  }

  /** Seals the secrets of an input; the clear values go no further than this function. */
  function sealCredentials(input: Pick<ParsedHostInput, 'name' | 'auth'> & { sudoPassword?: string | null }) {
    const at = now();
    let secretId: number | null = null;
    let keySecretId: number | null = null;
    if (input.auth.method === 'password') secretId = vault.store(`password:${input.name}`, input.auth.password, at);
    if ((input.auth.method === 'key' || input.auth.method === 'keyText') && input.auth.passphrase)
      secretId = vault.store(`passphrase:${input.name}`, input.auth.passphrase, at);
    if (input.auth.method === 'keyText') keySecretId = vault.store(PRIVATE_KEY_PURPOSE, input.auth.privateKey, at);
    const sudoSecretId = input.sudoPassword ? vault.store(`sudo:${input.name}`, input.sudoPassword, at) : null;
    return { secretId, keySecretId, sudoSecretId };
  }

  /** A new host's input (parsed by its caller), checked as far as it can be without the network; nothing is stored. */
  async function checkNew(input: ParsedHostInput): Promise<ParsedHostInput> {
    checkNameFree(input.name);
    checkJump(null, input.jumpHostId);
    // A missing key file, a malformed key or a wrong passphrase is reported now, not at the first install.
    await checkKey(endpointOf(input), input.auth);
    return input;
  }

  /**
   * Reads (a file) or parses (a text) a key login's private key and decrypts it; throws its coded
   * error. A passphrase given with a key that has none is refused here (a login ignores one).
   */
  async function checkKey(endpoint: SshEndpoint, auth: AuthInput): Promise<void> {
    if (auth.method === 'key') await loadPrivateKey(endpoint, auth.keyPath, auth.passphrase, { refuseUnneededPassphrase: true });
    if (auth.method === 'keyText')
      await parsePrivateKeyText(endpoint, auth.privateKey, auth.passphrase, { refuseUnneededPassphrase: true });
  }

  /**
   * The host key a host not yet in the inventory presents. Reaching it is the check that
   * its address, port and jump host are right, made before anything is stored: an
   * unreachable, refusing or silent address fails here with its own code and remedy.
   */
  async function scanNew(parsed: ParsedHostInput): Promise<ScannedHostKey> {
    const input = await checkNew(parsed);
    // Its secrets are sealed when it is added: a locked vault is said now, not after the operator compared keys.
    if (hasSecrets(input)) vault.requireUnlocked();
    return scanParsed(input);
  }

  function hasSecrets(input: ParsedHostInput): boolean {
    return (
      input.auth.method === 'password' ||
      input.auth.method === 'keyText' ||
      (input.auth.method === 'key' && Boolean(input.auth.passphrase)) ||
      Boolean(input.sudoPassword)
    );
  }

  function scanParsed(input: ParsedHostInput): Promise<ScannedHostKey> {
    const jumpRow = input.jumpHostId === null ? null : findHost(input.jumpHostId);
    const reachable = { name: input.name, address: input.address, port: input.port, jump: jumpRow ? buildSshTarget(deps, jumpRow) : null };
    return scanHostKey(reachable, { timeoutMs: probeTimeoutMs });
  }

  async function add(input: ParsedHostInput): Promise<HostSummary> {
    return store(await checkNew(input), undefined);
  }

  /**
   * Stores a new host trusted, only if the key it presents now is the one the operator
   * confirmed (from scanNew): the key is read again, so a host swapped in between is
   * refused, and a refusal stores nothing.
   */
  async function addTrusted(parsed: ParsedHostInput, fingerprint: string): Promise<HostSummary> {
    const input = await checkNew(parsed);
    const presented = await scanParsed(input);
    if (presented.fingerprint !== fingerprint)
      throw confirmedKeyMismatchError(input, presented, fingerprint, `; ${input.name} was not added`);
    return store(input, presented);
  }

  /** `awaitingKey`: a key login whose key is not given yet (its logins refused until one is pasted in its settings). */
  function store(input: ParsedHostInput, pinKey: ScannedHostKey | undefined, options = { awaitingKey: false }): HostSummary {
    // Again: another client may have taken the name, or removed the jump host, while the key was
    // decrypted (on the key worker: seconds at the rounds cap) or the host key was read.
    checkNameFree(input.name);
    checkJump(null, input.jumpHostId);
    const sealed = sealCredentials(input);
    const row = hosts.insertSsh(
      {
        name: input.name,
        address: input.address,
        port: input.port,
        user: input.user,
        authMethod: input.auth.method === 'keyText' || options.awaitingKey ? 'key' : input.auth.method,
        keyPath: input.auth.method === 'key' ? input.auth.keyPath : null,
        ...sealed,
        jumpHostId: input.jumpHostId,
        role: input.role,
        labels: [...new Set(input.labels)],
      },
      now(),
    );
    if (pinKey) hostKeys.pin(row.id, pinKey, now(), deps.actor ?? 'ui');
    deps.onHostChanged(row.id);
    return summary(row);
  }

  async function update(hostId: number, changes: z.output<typeof HostChangesSchema>): Promise<HostSummary> {
    if (changes.auth !== undefined) {
      const before = findHost(hostId);
      requireSsh(before);
      if (changes.name !== undefined) checkNameFree(changes.name, before.id);
      if (changes.jumpHostId !== undefined) checkJump(before.id, changes.jumpHostId);
      const endpoint = endpointOf({
        name: changes.name ?? before.name,
        address: changes.address ?? before.address,
        port: changes.port ?? before.port,
      });
      await checkKey(endpoint, changes.auth);
    }
    // Read (again) after the key check, which takes seconds for an encrypted key: from here on
    // nothing waits, so another operator's change meanwhile (its secrets, a removal) is seen, not overwritten.
    const row = findHost(hostId);
    requireSsh(row);
    if (changes.name !== undefined) checkNameFree(changes.name, row.id);
    if (changes.jumpHostId !== undefined) checkJump(row.id, changes.jumpHostId);
    const name = changes.name ?? row.name;
    const next: HostRowChanges = {};
    if (changes.name !== undefined) next.name = changes.name;
    if (changes.address !== undefined) next.address = changes.address;
    if (changes.port !== undefined) next.port = changes.port;
    if (changes.user !== undefined) next.user = changes.user;
    if (changes.jumpHostId !== undefined) next.jumpHostId = changes.jumpHostId;
    if (changes.role !== undefined) next.role = changes.role;
    if (changes.labels !== undefined) next.labels = [...new Set(changes.labels)];
    const retired: number[] = [];
    if (changes.auth !== undefined) {
      const sealed = sealCredentials({ name, auth: changes.auth });
      next.authMethod = changes.auth.method === 'keyText' ? 'key' : changes.auth.method;
      next.keyPath = changes.auth.method === 'key' ? changes.auth.keyPath : null;
      next.secretId = sealed.secretId;
      next.keySecretId = sealed.keySecretId;
      if (row.secretId !== null) retired.push(row.secretId);
      if (row.keySecretId !== null) retired.push(row.keySecretId);
    }
    if (changes.sudoPassword !== undefined) {
      next.sudoSecretId =
        changes.sudoPassword === null
          ? null
          : sealCredentials({ name, auth: { method: 'agent' }, sudoPassword: changes.sudoPassword }).sudoSecretId;
      if (row.sudoSecretId !== null) retired.push(row.sudoSecretId);
    }
    // An address or port change points at another machine: its key must be confirmed again.
    const readdressed =
      (changes.address !== undefined && changes.address !== row.address) || (changes.port !== undefined && changes.port !== row.port);
    const updated = hosts.update(row.id, next, now());
    for (const id of retired) vault.remove(id);
    if (readdressed) hostKeys.unpin(row.id);
    deps.onHostChanged(row.id);
    return summary(updated);
  }

  function remove(hostId: number): { removed: number } {
    const row = findHost(hostId);
    requireSsh(row);
    const dependents = hosts.dependents(row.id);
    if (dependents.length > 0)
      throw hostInUseError(
        row.name,
        dependents.map((d) => d.name),
      );
    hosts.remove(row.id);
    for (const id of [row.secretId, row.keySecretId, row.sudoSecretId]) if (id !== null) vault.remove(id);
    deps.onHostChanged(row.id);
    return { removed: row.id };
  }

  async function importList(
    text: string,
    fileName: string,
    options: { keyFiles: boolean } = { keyFiles: true },
  ): Promise<{ added: HostSummary[]; errors: ImportError[] }> {
    // Parsed on the YAML worker: a big or hostile list must not hold up other clients.
    const parsed = await sharedOffThreadYaml().run({ kind: 'host-list', text, fileName });
    if (parsed.refused) throw new ApiError('CONFIG_YAML_INVALID', parsed.refused.message, parsed.refused.remedy);
    const added: HostSummary[] = [];
    const errors = [...parsed.errors];
    for (const row of parsed.rows) {
      try {
        const jump = row.jumpHostName ? hosts.findByName(row.jumpHostName) : null;
        if (row.jumpHostName && !jump) throw importJumpHostNotFoundError(row.jumpHostName);
        const input = { ...row.input, jumpHostId: jump?.id ?? null };
        if (options.keyFiles) added.push(await add(input));
        else {
          // A browser's person has neither the key files nor the SSH agent of this machine.
          if (input.auth.method === 'key') throw importKeyFileRefusedError(input.auth.keyPath);
          if (input.auth.method === 'agent' && row.loginNamed) throw importAgentRefusedError();
          // No login named: the host comes in waiting for its private key, pasted in its settings after the import.
          added.push(input.auth.method === 'agent' ? store(await checkNew(input), undefined, { awaitingKey: true }) : await add(input));
        }
      } catch (error) {
        const api = error instanceof ApiError ? error : null;
        errors.push({
          row: row.row,
          line: row.line,
          column: row.column,
          field: null,
          message: `${fileName}: host ${row.row} (${row.input.name}): ${api ? api.message : (error as Error).message}`,
          remedy: api?.remedy ?? 'Correct this host; the other hosts were imported.',
        });
      }
    }
    errors.sort((a, b) => (a.row ?? 0) - (b.row ?? 0));
    return { added, errors };
  }

  async function scanKey(hostId: number) {
    const row = findHost(hostId);
    requireSsh(row);
    const target = buildSshTarget(deps, row);
    const presented = await scanHostKey(target, { timeoutMs: probeTimeoutMs });
    const pinned = hostKeys.get(row.id);
    const status = !pinned ? ('new' as const) : pinned.fingerprint === presented.fingerprint ? ('trusted' as const) : ('changed' as const);
    if (status === 'changed') hostKeys.recordRefusal(row.id, presented, pinned!.fingerprint, now(), deps.actor ?? 'ui');
    return { keyType: presented.keyType, fingerprint: presented.fingerprint, status, pinned: pinned ? toPinned(pinned) : null };
  }

  async function trust(hostId: number, fingerprint: string): Promise<HostSummary> {
    const row = findHost(hostId);
    requireSsh(row);
    const presented = await scanHostKey(buildSshTarget(deps, row), { timeoutMs: probeTimeoutMs });
    if (presented.fingerprint !== fingerprint) throw confirmedKeyMismatchError(row, presented, fingerprint, '');
    hostKeys.pin(row.id, presented, now(), deps.actor ?? 'ui');
    deps.onHostChanged(row.id);
    return summary(hosts.get(row.id)!);
  }

  /**
   * Pins keys from the operator's own known_hosts for hosts that have none pinned yet.
   * A host whose pinned key differs is reported, never overwritten: that needs trust().
   */
  function importKnownHosts(text: string) {
    const { keys, skipped } = parseKnownHosts(text);
    const pinned: Array<{ hostId: number; name: string; keyType: string; fingerprint: string }> = [];
    const conflicts: Array<{ hostId: number; name: string; pinned: string; known: string }> = [];
    for (const row of hosts.list()) {
      if (row.kind !== 'ssh') continue;
      const candidates = keys.filter((k) => matchesHost(k.patterns, row.address, row.port));
      const key = preferredKey(candidates);
      if (!key) continue;
      const current = hostKeys.get(row.id);
      if (current) {
        if (!candidates.some((k) => k.fingerprint === current.fingerprint)) {
          conflicts.push({ hostId: row.id, name: row.name, pinned: current.fingerprint, known: key.fingerprint });
        }
        continue;
      }
      hostKeys.pin(row.id, key, now(), 'known_hosts');
      deps.onHostChanged(row.id);
      pinned.push({ hostId: row.id, name: row.name, keyType: key.keyType, fingerprint: key.fingerprint });
    }
    return { pinned, conflicts, keysRead: keys.length, linesSkipped: skipped };
  }

  async function probeSsh(row: HostRow, options: ProbeOptions): Promise<HostFacts> {
    const timeoutMs = options.timeoutMs ?? probeTimeoutMs;
    options.onStep?.('connecting');
    let session;
    try {
      session = await connectSsh(buildSshTarget(deps, row), { timeoutMs, ...(options.signal ? { signal: options.signal } : {}) });
    } catch (error) {
      // Every refused changed key goes on the host's record, with what it presented.
      if (error instanceof HostKeyRefusedError && error.code === 'HOST_KEY_MISMATCH' && error.presented) {
        hostKeys.recordRefusal(row.id, error.presented, hostKeys.get(row.id)?.fingerprint ?? null, now(), deps.actor ?? 'probe');
      }
      throw error;
    }
    try {
      options.onStep?.('probing');
      const sudoPassword = sudoPasswordOf(vault, row);
      return await probeOverSsh(session, { timeoutMs, ...(sudoPassword ? { sudoPassword } : {}) });
    } finally {
      session.close();
    }
  }

  async function probe(idOrName: number | string, options: ProbeOptions = {}): Promise<HostFacts> {
    const row = findHost(idOrName);
    const running = inFlight.get(row.id);
    if (running) return running;
    const task = (async () => {
      let result: HostFacts;
      try {
        result = row.kind === 'local' ? await deps.probeLocal() : await probeSsh(row, options);
      } catch (error) {
        const api = error instanceof ApiError ? error : probeFailedError(row.name, error);
        // A cancelled probe says nothing about the host; every other failure is its status.
        if (!options.signal?.aborted) {
          deps.probeOutcomes.record(row.id, now(), api.toBody());
          deps.onHostChanged(row.id);
        }
        throw api;
      }
      options.onStep?.('storing');
      facts.save(row.id, result);
      deps.probeOutcomes.record(row.id, now(), null);
      deps.onHostChanged(row.id);
      return result;
    })().finally(() => inFlight.delete(row.id));
    inFlight.set(row.id, task);
    return task;
  }

  return {
    require: findHost,
    add,
    addTrusted,
    scanNew,
    update,
    remove,
    importList,
    scanKey,
    trust,
    importKnownHosts,
    probe,
    list(page?: { after?: number | undefined; limit: number }): HostSummary[] {
      return (page === undefined ? hosts.list() : hosts.page(page.after ?? 0, page.limit)).map(summary);
    },
    get(idOrName: number | string): HostDetail {
      const row = findHost(idOrName);
      const latest = facts.latest(row.id);
      return { host: summarizeHost(row, latest, hostKeys.get(row.id), deps.probeOutcomes.get(row.id)), facts: latest };
    },
    history(hostId: number, limit: number) {
      return facts.history(findHost(hostId).id, limit);
    },
    async factsOrProbe(idOrName: number | string): Promise<HostFacts> {
      const row = findHost(idOrName);
      return facts.latest(row.id) ?? probe(row.id);
    },
  };
}

function toPinned(key: PinnedKey): PinnedKey {
  return { keyType: key.keyType, fingerprint: key.fingerprint, trustedAt: key.trustedAt };
}
