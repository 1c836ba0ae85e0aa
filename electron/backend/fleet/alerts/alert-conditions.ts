import type { AlertRuleSpec } from './alert-rule-schema';
import type { AlertInputs, GaugeKind, ProcessInstanceRef } from './alert-inputs';

/** A rule's condition holding for one subject at one evaluation. */
export interface HoldingCondition {
  /** The subject's labels (install, host, process, instance, mount, gpu, certificate). */
  readonly labels: Record<string, string>;
  readonly hostId: number | null;
  readonly value: number | null;
  readonly summary: string;
}

export interface ConditionContext {
  readonly inputs: AlertInputs;
  readonly nowMs: number;
  /** A gauge reading older than this is no reading (a host that stopped reporting neither fires nor holds an alert on stale numbers). */
  readonly staleAfterMs: number;
}

const DAY_MS = 86_400_000;

/** Where the rule's condition holds now, one entry per subject. */
export function holdingConditions(spec: AlertRuleSpec, context: ConditionContext): HoldingCondition[] {
  const { inputs, nowMs } = context;
  switch (spec.kind) {
    case 'process-crash-loop':
      return inputs.processes.crashLooping().map((ref) => processCondition(context, ref, null, 'is in crash-loop'));
    case 'process-restarts':
      return inputs.processes
        .restartsSince(nowMs - spec.within)
        .filter((entry) => entry.restarts > spec.restarts)
        .map((entry) =>
          processCondition(context, entry, entry.restarts, `restarted ${entry.restarts} times in ${formatDuration(spec.within)}`),
        );
    case 'host-offline':
      return inputs
        .links()
        .filter((link) => link.state === 'offline')
        .map((link) => ({
          labels: { install: link.target.installName, host: link.target.hostName },
          hostId: link.target.hostId,
          value: null,
          summary: `${link.target.hostName} is offline${link.reason ? `: ${link.reason.message}` : ''}`,
        }));
    case 'filesystem-usage':
      return gaugeConditions(
        context,
        'filesystem.used_percent',
        spec.above,
        (labels, value) => `filesystem ${labels.mount ?? '?'} is ${value.toFixed(1)}% full (over ${spec.above}%)`,
      );
    case 'memory-usage':
      return gaugeConditions(
        context,
        'memory.used_percent',
        spec.above,
        (_labels, value) => `memory is ${value.toFixed(1)}% used (over ${spec.above}%)`,
      );
    case 'gpu-temperature':
      return gaugeConditions(
        context,
        'gpu.temperature_celsius',
        spec.above,
        (labels, value) => `GPU ${labels.gpu ?? '?'} is at ${value.toFixed(0)} °C (over ${spec.above} °C)`,
      );
    case 'certificate-expiry':
      return inputs.certificates
        .list()
        .filter((cert) => cert.notAfterMs - nowMs < spec.within)
        .map((cert) => {
          const daysLeft = Math.floor((cert.notAfterMs - nowMs) / DAY_MS);
          const host = cert.hostId === null ? undefined : inputs.describeHost(cert.hostId);
          const whose = host ? `${host.hostName}'s ${cert.what}` : `the ${cert.what} of install ${cert.installName}`;
          return {
            labels: { install: cert.installName, ...(host ? { host: host.hostName } : {}), certificate: cert.what },
            hostId: host ? cert.hostId : null,
            value: daysLeft,
            summary:
              cert.notAfterMs <= nowMs
                ? `${whose} expired on ${new Date(cert.notAfterMs).toISOString()}`
                : `${whose} expires in ${daysLeft} day${daysLeft === 1 ? '' : 's'} (${new Date(cert.notAfterMs).toISOString()})`,
          };
        });
  }
}

function hostLabels(context: ConditionContext, hostId: number): { labels: Record<string, string>; name: string } {
  const host = context.inputs.describeHost(hostId);
  const name = host?.hostName ?? `host ${hostId}`;
  return { labels: { ...(host?.installName ? { install: host.installName } : {}), host: name }, name };
}

function processCondition(context: ConditionContext, ref: ProcessInstanceRef, value: number | null, what: string): HoldingCondition {
  const host = hostLabels(context, ref.hostId);
  return {
    labels: { ...host.labels, process: ref.process, instance: ref.instance },
    hostId: ref.hostId,
    value,
    summary: `${ref.instance} on ${host.name} ${what}`,
  };
}

function gaugeConditions(
  context: ConditionContext,
  kind: GaugeKind,
  above: number,
  describe: (labels: Readonly<Record<string, string>>, value: number) => string,
): HoldingCondition[] {
  return context.inputs.gauges
    .latest(kind)
    .filter((gauge) => context.nowMs - gauge.atMs <= context.staleAfterMs && gauge.value > above)
    .map((gauge) => {
      const host = hostLabels(context, gauge.hostId);
      return {
        labels: { ...host.labels, ...gauge.labels },
        hostId: gauge.hostId,
        value: gauge.value,
        summary: `${host.name}: ${describe(gauge.labels, gauge.value)}`,
      };
    });
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', DAY_MS],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const)
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}
