import { randomUUID } from 'node:crypto';
import {
  ApiError,
  remedyForCli,
  type ApiClient,
  type ApplyResult,
  type InstallPlan,
  type InstallRunEvent,
  type RollbackResult,
  type UninstallResult,
} from '../../contract';
import { EXIT, exitCodeFor } from './exit-codes';
import { formatBytes } from './format-text';

export const INSTALL_COMMANDS = ['plan', 'apply', 'rollback', 'uninstall'];

export interface InstallCommandContext {
  command: string;
  args: string[];
  values: Record<string, string | boolean | string[] | undefined>;
  json: boolean;
  /** The final result: text for people, or the value as JSON. */
  print(text: string, value: unknown): void;
  /** One progress line (`host  step  status  detail`); not written with --json. */
  line(text: string): void;
  api(): Promise<ApiClient>;
}

const STEP_WIDTH = 11;

/**
 * `sutazai plan --install F`, `sutazai apply --install F [--concurrency N] [--allow-downgrade]`,
 * `sutazai rollback --install F [--host H] [--to VERSION]` and
 * `sutazai uninstall --install F [--host H]`.
 */
export async function runInstallCommand(ctx: InstallCommandContext): Promise<number> {
  const file = typeof ctx.values.install === 'string' ? ctx.values.install : undefined;
  if (!file)
    throw new ApiError(
      'BAD_PARAMS',
      `\`${ctx.command}\` needs --install FILE, the install file.`,
      `Example: sutazai ${ctx.command} --install install.yaml (README.md, "Installing", shows the format).`,
    );
  if (ctx.args.length > 0)
    throw new ApiError(
      'BAD_PARAMS',
      `\`${ctx.command}\` takes no arguments (got "${ctx.args.join(' ')}").`,
      'Name the install file with --install FILE.',
    );
  const allowDowngrade = ctx.values['allow-downgrade'] === true;
  if (allowDowngrade && ctx.command !== 'apply')
    throw new ApiError(
      'BAD_PARAMS',
      `\`${ctx.command}\` takes no --allow-downgrade.`,
      '--allow-downgrade is for sutazai apply, to install a bundle older than the hosts run.',
    );
  const host = stringOption(ctx, 'host', ['rollback', 'uninstall']);
  const to = stringOption(ctx, 'to', ['rollback']);
  const api = await ctx.api();
  const width = { host: 0 };
  const lastPercent = new Map<string, number>();
  // Subscribed before the run starts, under an id of our own, so its first step is seen too.
  const progressId = randomUUID();
  const unsubscribe = await api.subscribe('installs.runProgress', { progressId }, ({ event }) => {
    const text = formatEvent(event, width, lastPercent);
    if (text !== null) ctx.line(text);
  });
  try {
    return await runWithProgress(ctx, api, { path: file }, progressId, { host, to, allowDowngrade });
  } finally {
    await unsubscribe();
  }
}

async function runWithProgress(
  ctx: InstallCommandContext,
  api: ApiClient,
  file: { path: string },
  progressId: string,
  options: { host: string | undefined; to: string | undefined; allowDowngrade: boolean },
): Promise<number> {
  const { host, to, allowDowngrade } = options;
  if (ctx.command === 'rollback') {
    const result = await api.call('installs.rollbackFile', {
      file,
      ...(host !== undefined ? { host } : {}),
      ...(to !== undefined ? { to } : {}),
      progressId,
    });
    ctx.print(formatRollbackResult(result), result);
    const failed = result.hosts.find((h) => h.error !== null);
    return failed ? exitCodeFor(failed.error!.code) : EXIT.OK;
  }
  if (ctx.command === 'uninstall') {
    const result = await api.call('installs.uninstallFile', { file, ...(host !== undefined ? { host } : {}), progressId });
    ctx.print(formatUninstallResult(result), result);
    const failed = result.hosts.find((h) => h.error !== null);
    return failed ? exitCodeFor(failed.error!.code) : EXIT.OK;
  }
  if (ctx.command === 'plan') {
    const plan = await api.call('installs.planFile', { file });
    ctx.print(formatPlan(plan), plan);
    const failed = plan.hosts.find((h) => h.error !== null);
    return failed ? exitCodeFor(failed.error!.code) : EXIT.OK;
  }
  const concurrency = parseConcurrency(ctx.values.concurrency);
  const result = await api.call('installs.applyFile', {
    file,
    ...(concurrency !== undefined ? { concurrency } : {}),
    allowDowngrade,
    progressId,
  });
  ctx.print(formatApplyResult(result), result);
  const failed = result.hosts.find((h) => h.error !== null);
  return failed ? exitCodeFor(failed.error!.code) : EXIT.OK;
}

/** A string option that only some of these commands take. */
function stringOption(ctx: InstallCommandContext, name: 'host' | 'to', commands: readonly string[]): string | undefined {
  const value = ctx.values[name];
  if (value === undefined) return undefined;
  if (!commands.includes(ctx.command))
    throw new ApiError(
      'BAD_PARAMS',
      `\`${ctx.command}\` takes no --${name}.`,
      `--${name} is for ${commands.map((c) => `sutazai ${c}`).join(' and ')}.`,
    );
  if (typeof value !== 'string' || value === '')
    throw new ApiError(
      'BAD_PARAMS',
      `--${name} needs a value.`,
      name === 'host' ? 'Example: --host core-1 (a host of the install).' : 'Example: --to 0.1.0 (a release the host keeps).',
    );
  return value;
}

function parseConcurrency(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new ApiError(
      'BAD_PARAMS',
      `--concurrency must be a whole number from 1 to 64, not "${String(value)}".`,
      'Example: --concurrency 4',
    );
  return n;
}

export function formatPlan(plan: InstallPlan): string {
  const out = [
    `install ${plan.install}: bundle ${plan.bundle.name}@${plan.bundle.version} (${formatBytes(plan.bundle.sizeBytes)}, sha256 ${plan.bundle.sha256.slice(0, 12)})`,
  ];
  let todo = 0;
  for (const host of plan.hosts) {
    const where =
      host.mode === null
        ? 'not reachable'
        : `${host.mode === 'system' ? 'system-wide' : 'per-user'} under ${host.root}, ${host.service === 'systemd' ? 'systemd unit' : 'detached mode'}`;
    out.push('', `${host.host}  ${host.role}${host.gpu ? ' (GPU agents)' : ''}  ${where}`);
    for (const step of host.steps) {
      if (step.state === 'todo') todo += 1;
      out.push(`  ${step.step.padEnd(STEP_WIDTH)}  ${step.state.padEnd(7)}  ${step.detail}`);
    }
    if (host.error) out.push(`  error ${host.error.code}: ${host.error.message}`, `  remedy: ${remedyForCli(host.error)}`);
  }
  out.push('');
  if (plan.downgradeFrom.length > 0) {
    out.push(
      `A DOWNGRADE from ${plan.downgradeFrom.join(', ')} to ${plan.bundle.version}: the bundle is older than what hosts run. \`sutazai apply\` refuses it unless given --allow-downgrade; to return to a release the hosts keep, roll back instead.`,
    );
  } else if (plan.rolling && !plan.upToDate) {
    const from = [...new Set(plan.hosts.map((h) => h.currentRelease).filter((v): v is string => v !== null && v !== plan.bundle.version))];
    out.push(
      `A rolling upgrade${from.length > 0 ? ` from ${from.join(', ')}` : ''} to ${plan.bundle.version}: uploads may run ahead, then the hosts switch one at a time in this order; a host whose core and agents are not healthy in time returns to its release and the rollout stops.`,
    );
  }
  if (plan.upToDate) out.push('Up to date: every step of every host is already done; apply would change nothing.');
  else
    out.push(
      `${todo} step${todo === 1 ? '' : 's'} to do. Nothing has been changed; run \`sutazai apply\` with the same install file to do them.`,
    );
  return out.join('\n');
}

function formatEvent(event: InstallRunEvent, width: { host: number }, lastPercent: Map<string, number>): string | null {
  width.host = Math.max(width.host, event.host.length);
  const host = event.host.padEnd(width.host);
  if (event.kind === 'upload') {
    // One line per tenth of the bundle, not one per write.
    const percent = Math.floor((event.bytesOnHost / event.totalBytes) * 10) * 10;
    if ((lastPercent.get(event.host) ?? -1) >= percent) return null;
    lastPercent.set(event.host, percent);
    return `${host}  ${'upload'.padEnd(STEP_WIDTH)}  ${`${percent}%`.padEnd(12)}  ${formatBytes(event.bytesOnHost)} of ${formatBytes(event.totalBytes)}${event.resumedFrom > 0 ? ` (resumed at ${formatBytes(event.resumedFrom)})` : ''}`;
  }
  if (event.kind === 'activate') {
    // A host brought back to a kept release: "back>start" in the step column.
    const what = `${event.purpose === 'auto-rollback' ? 'back' : 'rollback'}>${event.step}`;
    return `${host}  ${what.padEnd(STEP_WIDTH)}  ${event.status.padEnd(12)}  ${event.step === 'read' && event.status === 'running' ? `to ${event.version}: ` : ''}${event.detail}`.trimEnd();
  }
  if (event.kind === 'uninstall') {
    return `${host}  ${event.step.padEnd(STEP_WIDTH)}  ${event.status.padEnd(12)}  ${event.detail}`.trimEnd();
  }
  if (event.kind === 'host') {
    return `${host}  ${'result'.padEnd(STEP_WIDTH)}  ${event.outcome.padEnd(12)}  ${event.error ? `${event.error.code}: ${event.error.message.split('\n')[0]}` : ''}`.trimEnd();
  }
  return `${host}  ${event.step.padEnd(STEP_WIDTH)}  ${event.status.padEnd(12)}  ${event.detail}`.trimEnd();
}

export function formatApplyResult(result: ApplyResult): string {
  const out = [''];
  for (const host of result.hosts) {
    if (host.outcome === 'failed') out.push(`${host.host}: failed: ${host.error!.message}`, `  remedy: ${remedyForCli(host.error!)}`);
    else if (host.outcome === 'unchanged') out.push(`${host.host}: nothing to do, every step was already done`);
    else out.push(`${host.host}: ${result.bundle.name}@${result.bundle.version} installed and healthy`);
  }
  if (result.unchanged) out.push('', 'Nothing changed: every step of every host was already done.');
  return out.join('\n');
}

export function formatRollbackResult(result: RollbackResult): string {
  const out = [''];
  for (const host of result.hosts) {
    if (host.outcome === 'rolled-back') out.push(`${host.host}: back on ${host.to} (was ${host.from ?? 'none'}), healthy: ${host.health}`);
    else if (host.outcome === 'unchanged') out.push(`${host.host}: ${host.to} is current already; nothing to do`);
    else out.push(`${host.host}: ${host.error!.message}`, `  remedy: ${remedyForCli(host.error!)}`);
  }
  return out.join('\n');
}

export function formatUninstallResult(result: UninstallResult): string {
  const out = [''];
  for (const host of result.hosts) {
    if (host.outcome === 'removed')
      out.push(`${host.host}: uninstalled (${host.removed.length} recorded path${host.removed.length === 1 ? '' : 's'} removed)`);
    else out.push(`${host.host}: failed: ${host.error!.message}`, `  remedy: ${remedyForCli(host.error!)}`);
  }
  if (result.installRemoved) out.push('', `No host is left: the install ${result.install} and its CA key are removed.`);
  return out.join('\n');
}
