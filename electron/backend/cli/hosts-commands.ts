import { createInterface } from 'node:readline/promises';
import {
  ApiError,
  listAllHosts,
  remedyForCli,
  type ApiClient,
  type AuthInput,
  type ErrorCode,
  type HostInput,
  type HostSummary,
  type ProbeProgress,
} from '../../contract';
import { EXIT, exitCodeFor } from './exit-codes';
import { formatFacts, formatHostList, formatTable } from './format-text';
import { secretFromFile, secretFromStdin } from './read-secret-input';

export interface CommandContext {
  /** The contract's client, on the in-process pipe to the backend's dispatcher. */
  api: ApiClient;
  json: boolean;
  values: Record<string, string | boolean | string[] | undefined>;
  args: string[];
  print(text: string, value: unknown): void;
  /** Progress lines for people; stderr so scripts reading stdout see only the result. */
  progress(text: string): void;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A host as the operator names it on the command line: its name, or its id. */
async function findHost(ctx: CommandContext, host: string): Promise<HostSummary> {
  return (await ctx.api.call('hosts.find', { host })).host;
}

function listHosts(ctx: CommandContext): Promise<HostSummary[]> {
  return listAllHosts((page) => ctx.api.call('hosts.list', page));
}

async function authFrom(values: CommandContext['values']): Promise<AuthInput> {
  const key = str(values.key);
  if (key) {
    const passFile = str(values['key-passphrase-file']);
    return { method: 'key', keyPath: key, ...(passFile ? { passphrase: secretFromFile(passFile, 'key passphrase') } : {}) };
  }
  if (values['password-stdin']) return { method: 'password', password: await secretFromStdin('password') };
  const passwordFile = str(values['password-file']);
  if (passwordFile) return { method: 'password', password: secretFromFile(passwordFile, 'password') };
  return { method: 'agent' };
}

export async function hostsAdd(ctx: CommandContext): Promise<number> {
  const [name] = ctx.args;
  const address = str(ctx.values.address);
  if (!name || !address)
    throw new ApiError(
      'BAD_PARAMS',
      '`hosts add` needs a name and --address.',
      'Example: sutazai hosts add db-1 --address 10.0.0.5 --user root --key ~/.ssh/id_ed25519',
    );
  const jump = str(ctx.values.jump);
  const sudoFile = str(ctx.values['sudo-password-file']);
  const input: HostInput = {
    name,
    address,
    port: ctx.values.port === undefined ? 22 : Number(ctx.values.port),
    user: str(ctx.values.user) ?? 'root',
    auth: await authFrom(ctx.values),
    jumpHostId: jump ? (await findHost(ctx, jump)).id : null,
    role: (str(ctx.values.role) as HostInput['role']) ?? null,
    labels: (ctx.values.label as string[] | undefined) ?? [],
    ...(sudoFile ? { sudoPassword: secretFromFile(sudoFile, 'sudo password') } : {}),
  };
  // The address is checked (by reading the host key) before anything is stored, so a
  // wrong address, port or --trust leaves nothing behind.
  ctx.progress(`checking ${name} (${address}:${input.port}) and its host key...`);
  const key = await ctx.api.call('hosts.scanNew', input);
  ctx.progress(`${name} presents host key ${key.keyType} ${key.fingerprint}`);
  const expected = str(ctx.values.trust);
  if (expected !== undefined && expected !== key.fingerprint) {
    throw new ApiError(
      'HOST_KEY_MISMATCH',
      `${name} (${address}:${input.port}) presents ${key.keyType} ${key.fingerprint}, not the ${expected} given with --trust; ${name} was not added.`,
      'Compare the fingerprint with the one the machine shows (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on its console) and add it again with the one it really has.',
    );
  }
  const answer = expected ?? (await askToTrust(ctx, name, key.fingerprint));
  if (answer === false) {
    ctx.progress(`${name} was not added: its host key was not confirmed.`);
    return EXIT.HOST_KEY;
  }
  // With `trust` the backend reads the key again and stores the host only if it is still the confirmed one.
  const host = await ctx.api.call('hosts.add', answer === null ? input : { ...input, trust: answer });
  if (answer === null) ctx.progress(`added ${name}, not trusted yet; to trust it: sutazai hosts trust ${name} --trust ${key.fingerprint}`);
  else ctx.progress(`${name}: host key ${key.fingerprint} trusted.`);
  ctx.print(`host ${host.name} added (id ${host.id})`, { host: (await ctx.api.call('hosts.get', { hostId: host.id })).host });
  return answer === null ? EXIT.HOST_KEY : EXIT.OK;
}

/** y/N on a terminal: the fingerprint when confirmed, false when refused, null when there is no one to ask. */
async function askToTrust(ctx: CommandContext, name: string, fingerprint: string): Promise<string | false | null> {
  if (!process.stdin.isTTY || ctx.json) return null;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = (
    await rl.question(`Trust this key for ${name}? Compare it with the machine's own (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub). [y/N] `)
  )
    .trim()
    .toLowerCase();
  rl.close();
  return answer === 'y' || answer === 'yes' ? fingerprint : false;
}

/**
 * Shows the key a host presents and pins it when the operator confirms: by
 * `--trust SHA256:...` matching it, or interactively on a terminal.
 */
async function confirmTrust(ctx: CommandContext, host: HostSummary, expected: string | undefined): Promise<number> {
  const scan = await ctx.api.call('hosts.scanKey', { hostId: host.id });
  const name = host.name;
  if (scan.status === 'trusted' && !expected) {
    ctx.progress(`${name}: host key ${scan.keyType} ${scan.fingerprint} is already trusted.`);
    return EXIT.OK;
  }
  if (scan.status === 'changed') {
    ctx.progress(
      `WARNING: the host key of ${name} CHANGED since you trusted it on ${new Date(scan.pinned!.trustedAt).toISOString()}:\n  was ${scan.pinned!.fingerprint}\n  now ${scan.fingerprint}`,
    );
  } else {
    ctx.progress(`${name} presents host key ${scan.keyType} ${scan.fingerprint}`);
  }
  const confirmed = expected ?? (await askToTrust(ctx, name, scan.fingerprint)) ?? undefined;
  if (!confirmed) {
    ctx.progress(`not trusted yet; to trust it: sutazai hosts trust ${name} --trust ${scan.fingerprint}`);
    return EXIT.HOST_KEY;
  }
  await ctx.api.call('hosts.trust', { hostId: host.id, fingerprint: confirmed });
  ctx.progress(`${name}: host key ${confirmed} trusted.`);
  return EXIT.OK;
}

export async function hostsTrust(ctx: CommandContext): Promise<number> {
  const knownHosts = str(ctx.values['known-hosts']);
  if (knownHosts) return trustFromKnownHosts(ctx, knownHosts);
  const [target] = ctx.args;
  if (!target) throw new ApiError('BAD_PARAMS', '`hosts trust` needs a host.', 'Example: sutazai hosts trust db-1 --trust SHA256:...');
  const row = await findHost(ctx, target);
  const code = await confirmTrust(ctx, row, str(ctx.values.trust));
  const { host } = await ctx.api.call('hosts.get', { hostId: row.id });
  ctx.print(host.hostKey ? `${host.name}: ${host.hostKey.keyType} ${host.hostKey.fingerprint} trusted` : `${host.name}: key not trusted`, {
    host,
  });
  return code;
}

export async function hostsImport(ctx: CommandContext): Promise<number> {
  const [file] = ctx.args;
  if (!file) throw new ApiError('BAD_PARAMS', '`hosts import` needs a YAML file.', 'Example: sutazai hosts import hosts.yaml');
  // By path: the backend reads it up to the host list limit, which is over one message's.
  const result = await ctx.api.call('hosts.importFile', { path: file });
  const lines = [
    `${result.added.length} host(s) added${result.added.length ? `: ${result.added.map((h) => h.name).join(', ')}` : ''}`,
    ...result.errors.map((e) => `  ${e.message}\n    remedy: ${e.remedy}`),
  ];
  if (result.added.length) lines.push('Next: confirm each host key with `sutazai hosts trust <name>`.');
  ctx.print(lines.join('\n'), result);
  return result.errors.length ? EXIT.USAGE : EXIT.OK;
}

export async function hostsRemove(ctx: CommandContext): Promise<number> {
  const [target] = ctx.args;
  if (!target) throw new ApiError('BAD_PARAMS', '`hosts remove` needs a host.', 'Example: sutazai hosts remove db-1');
  const row = await findHost(ctx, target);
  const result = await ctx.api.call('hosts.remove', { hostId: row.id });
  ctx.print(`host ${row.name} removed`, result);
  return EXIT.OK;
}

export async function hostsProbe(ctx: CommandContext): Promise<number> {
  if (ctx.args.length === 0)
    throw new ApiError('BAD_PARAMS', '`hosts probe` needs one or more hosts (or --all).', 'Example: sutazai hosts probe db-1 db-2');
  const rows: HostSummary[] = [];
  for (const arg of ctx.args) rows.push(await findHost(ctx, arg));
  if (rows.length === 1 && rows[0]!.kind === 'local') {
    const facts = await ctx.api.call('hosts.probe', { hostId: rows[0]!.id });
    ctx.print(formatFacts(rows[0]!.name, facts), { host: (await ctx.api.call('hosts.get', { hostId: rows[0]!.id })).host, facts });
    return EXIT.OK;
  }
  const results: ProbeProgress[] = await probeMany(
    ctx.api,
    rows.map((r) => r.id),
    {
      concurrency: ctx.values.concurrency === undefined ? 8 : Number(ctx.values.concurrency),
      timeoutMs: ctx.values.timeout === undefined ? 20_000 : Number(ctx.values.timeout) * 1000,
      onProgress: (p) =>
        ctx.progress(`[${p.finished}/${p.total}] ${p.hostName}: ${p.state}${p.error ? ` (${p.error.code}: ${p.error.message})` : ''}`),
    },
  );
  const table = formatTable(
    ['HOST', 'RESULT', 'TIME', 'DETAIL'],
    results.map((r) => [
      r.hostName,
      r.state,
      `${(r.elapsedMs / 1000).toFixed(1)} s`,
      r.error ? `${r.error.code}: ${remedyForCli(r.error)}` : '',
    ]),
  );
  const failed = results.filter((r) => r.state !== 'done');
  ctx.print(`${table}\n${results.length - failed.length} probed, ${failed.length} failed`, { results, hosts: await listHosts(ctx) });
  if (failed.length === 0) return EXIT.OK;
  // One class of failure keeps its own exit code (a changed key is 6 whether one host or ten).
  const codes = new Set(failed.map((r) => (r.error ? exitCodeFor(r.error.code as ErrorCode) : EXIT.PROBE)));
  return codes.size === 1 ? [...codes][0]! : EXIT.PROBE;
}

/**
 * Probes hosts in parallel as a bulk probe job (probes.start), reporting each state change;
 * resolves with every host's final state, in the order asked.
 */
async function probeMany(
  api: ApiClient,
  hostIds: number[],
  options: { concurrency: number; timeoutMs: number; onProgress: (p: ProbeProgress) => void },
): Promise<ProbeProgress[]> {
  // The job reports 'queued' before probes.start answers with its id: hold those until it does.
  let jobId: string | null = null;
  let total = Infinity;
  const early: ProbeProgress[] = [];
  const finals = new Map<number, ProbeProgress>();
  let allDone!: () => void;
  const done = new Promise<void>((resolve) => (allDone = resolve));
  const take = (progress: ProbeProgress) => {
    options.onProgress(progress);
    if (progress.state === 'done' || progress.state === 'failed' || progress.state === 'cancelled') finals.set(progress.hostId, progress);
    if (finals.size >= total) allDone();
  };
  const unsubscribe = await api.subscribe('probes.progress', {}, (progress) => {
    if (jobId === null) early.push(progress);
    else if (progress.jobId === jobId) take(progress);
  });
  try {
    const job = await api.call('probes.start', { hostIds, concurrency: options.concurrency, timeoutMs: options.timeoutMs });
    jobId = job.jobId;
    total = job.total;
    for (const progress of early.splice(0)) if (progress.jobId === jobId) take(progress);
    await done;
  } finally {
    await unsubscribe();
  }
  return [...new Set(hostIds)].map((id) => finals.get(id)!);
}

/** `hosts list`: the first run on a machine has not probed it yet, and a list of unknowns helps no one. */
export async function hostsList(ctx: CommandContext): Promise<number> {
  let list = await listHosts(ctx);
  const local = list.find((host) => host.kind === 'local');
  if (local && (await ctx.api.call('hosts.get', { hostId: local.id })).facts === null) {
    // A viewer may not probe (it stores facts): it gets the list as it stands.
    const probed = await ctx.api.call('hosts.probe', { hostId: local.id }).then(
      () => true,
      (error: unknown) => {
        if (error instanceof ApiError && error.code === 'ACCESS_DENIED') return false;
        throw error;
      },
    );
    if (probed) list = await listHosts(ctx);
  }
  ctx.print(formatHostList(list), list);
  return EXIT.OK;
}

/** `hosts show`: the stored facts of a host, probing the local machine if it never was. */
export async function hostsShow(ctx: CommandContext): Promise<number> {
  const detail = await ctx.api.call('hosts.find', { host: ctx.args[0]! });
  const row = detail.host;
  const facts = row.kind === 'local' && detail.facts === null ? await ctx.api.call('hosts.probe', { hostId: row.id }) : detail.facts;
  if (!facts) {
    throw new ApiError('NO_FACTS', `${row.name} has not been probed yet.`, `Probe it: sutazai hosts probe ${row.name}`);
  }
  ctx.print(formatFacts(row.name, facts), { host: (await ctx.api.call('hosts.get', { hostId: row.id })).host, facts });
  return EXIT.OK;
}

export async function hostsPreflight(ctx: CommandContext): Promise<number> {
  const profile = str(ctx.values.profile);
  if (ctx.args.length === 0 || !profile) {
    throw new ApiError(
      'BAD_PARAMS',
      '`hosts preflight` needs hosts and --profile.',
      'Example: sutazai hosts preflight db-1 db-2 --profile core (profiles: core, agent, agent-gpu)',
    );
  }
  const ids: number[] = [];
  for (const arg of ctx.args) ids.push((await findHost(ctx, arg)).id);
  const report = await ctx.api.call('preflight.run', { hostIds: ids, profile });
  const mark = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' } as const;
  const lines: string[] = [`Preflight (${report.profile}) at ${new Date(report.ranAt).toISOString()}: ${mark[report.outcome]}`];
  for (const host of report.hosts) {
    lines.push(
      '',
      `${host.hostName}: ${mark[host.outcome]}${host.factsProbedAt ? ` (facts of ${new Date(host.factsProbedAt).toISOString()})` : ''}`,
    );
    for (const c of host.checks)
      lines.push(`  ${mark[c.outcome]}  ${c.title}: ${c.message}${c.remedy ? `\n        remedy: ${c.remedy}` : ''}`);
  }
  if (report.crossHost.length) {
    lines.push('', 'Across hosts:');
    for (const c of report.crossHost)
      lines.push(`  ${mark[c.outcome]}  ${c.title}: ${c.message}${c.remedy ? `\n        remedy: ${c.remedy}` : ''}`);
  }
  ctx.print(lines.join('\n'), report);
  return report.outcome === 'pass' ? EXIT.OK : report.outcome === 'warn' ? EXIT.PREFLIGHT_WARN : EXIT.PREFLIGHT_FAIL;
}

/** `hosts trust --known-hosts ~/.ssh/known_hosts`: pin what the operator's own ssh already trusts. */
async function trustFromKnownHosts(ctx: CommandContext, file: string): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const { expandHome } = await import('../hosts/ssh/load-private-key');
  const text = await readFile(expandHome(file), 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new ApiError(
      'BAD_PARAMS',
      `${file} cannot be read (${error.code}).`,
      'Give the path of an OpenSSH known_hosts file, e.g. ~/.ssh/known_hosts.',
    );
  });
  const result = await ctx.api.call('hosts.importKnownHosts', { text });
  const lines = [
    `${result.keysRead} key(s) read from ${file}; ${result.pinned.length} host(s) pinned`,
    ...result.pinned.map((p) => `  ${p.name}: ${p.keyType} ${p.fingerprint}`),
    ...result.conflicts.map(
      (c) =>
        `  ${c.name}: NOT changed: pinned ${c.pinned}, known_hosts has ${c.known}; re-trust it on purpose with sutazai hosts trust ${c.name}`,
    ),
  ];
  ctx.print(lines.join('\n'), result);
  return result.conflicts.length ? EXIT.HOST_KEY : EXIT.OK;
}
