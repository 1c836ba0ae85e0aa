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

/** One evaluation of a rule: where it holds, and which subjects it could judge at all. */
export interface RuleVerdict {
  readonly holding: HoldingCondition[];
  /**
   * Whether the inputs said anything about an open alert's subject. One they did not (a host
   * whose samples stopped or have not come since a restart, a link still connecting, an
   * instance not heard of) keeps its alert as it is: losing sight of a subject is not the
   * subject getting well, and the host-offline rule says why it went quiet.
   */
  judged(alert: { readonly hostId: number | null; readonly labels: Readonly<Record<string, string>> }): boolean;
}

export interface ConditionContext {
  readonly inputs: AlertInputs;
  readonly nowMs: number;
  /** A gauge reading older than this says nothing any more. */
  readonly staleAfterMs: number;
}

const DAY_MS = 86_400_000;

export function evaluateRule(spec: AlertRuleSpec, context: ConditionContext): RuleVerdict {
  const { inputs, nowMs } = context;
  switch (spec.kind) {
    case 'process-crash-loop': {
      const known = inputs.processes.states();
      return {
        holding: known
          .filter((entry) => entry.state === 'crash-loop')
          .flatMap((ref) => processCondition(context, ref, null, 'is in crash-loop')),
        judged: instanceJudged(known),
      };
    }
    case 'process-restarts': {
      const known = inputs.processes.restartsSince(nowMs - spec.within);
      return {
        holding: known
          .filter((entry) => entry.restarts > spec.restarts)
          .flatMap((entry) =>
            processCondition(context, entry, entry.restarts, `restarted ${entry.restarts} times in ${formatDuration(spec.within)}`),
          ),
        judged: instanceJudged(known),
      };
    }
    case 'host-offline': {
      const links = inputs.links();
      return {
        holding: links
          .filter((link) => link.state === 'offline')
          .map((link) => ({
            labels: { install: link.target.installName, host: link.target.hostName },
            hostId: link.target.hostId,
            value: null,
            summary: `${link.target.hostName} is offline${link.reason ? `: ${link.reason.message}` : ''}`,
          })),
        // A link that is connecting (at start, or trying again) has not said yet whether the host is back.
        judged: (alert) => links.some((link) => link.target.hostId === alert.hostId && link.state !== 'connecting'),
      };
    }
    case 'filesystem-usage':
      return gaugeVerdict(
        context,
        'filesystem.used_percent',
        spec.above,
        (labels, value) => `filesystem ${labels.mount ?? '?'} is ${value.toFixed(1)}% full (over ${spec.above}%)`,
      );
    case 'memory-usage':
      return gaugeVerdict(
        context,
        'memory.used_percent',
        spec.above,
        (_labels, value) => `memory is ${value.toFixed(1)}% used (over ${spec.above}%)`,
      );
    case 'gpu-temperature':
      return gaugeVerdict(
        context,
        'gpu.temperature_celsius',
        spec.above,
        (labels, value) => `GPU ${labels.gpu ?? '?'} is at ${value.toFixed(0)} °C (over ${spec.above} °C)`,
      );
    case 'certificate-expiry':
      return {
        holding: inputs.certificates
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
          }),
        // The store is the record of what was issued: a certificate no longer listed is gone (reissued, its install removed).
        judged: () => true,
      };
  }
}

/** A host's labels; null for a host gone from the fleet (what it last reported raises nothing). */
function hostLabels(context: ConditionContext, hostId: number): { labels: Record<string, string>; name: string } | null {
  const host = context.inputs.describeHost(hostId);
  if (host === undefined) return null;
  return { labels: { ...(host.installName ? { install: host.installName } : {}), host: host.hostName }, name: host.hostName };
}

/** The condition for one instance: none (an empty list) when its host is gone from the fleet. */
function processCondition(context: ConditionContext, ref: ProcessInstanceRef, value: number | null, what: string): HoldingCondition[] {
  const host = hostLabels(context, ref.hostId);
  if (host === null) return [];
  return [
    {
      labels: { ...host.labels, process: ref.process, instance: ref.instance },
      hostId: ref.hostId,
      value,
      summary: `${ref.instance} on ${host.name} ${what}`,
    },
  ];
}

function instanceJudged(known: readonly ProcessInstanceRef[]): RuleVerdict['judged'] {
  const keys = new Set(known.map((ref) => `${ref.hostId}\u0000${ref.instance}`));
  return (alert) => keys.has(`${alert.hostId}\u0000${alert.labels.instance}`);
}

function gaugeVerdict(
  context: ConditionContext,
  kind: GaugeKind,
  above: number,
  describe: (labels: Readonly<Record<string, string>>, value: number) => string,
): RuleVerdict {
  const fresh = context.inputs.gauges.latest(kind).filter((gauge) => context.nowMs - gauge.atMs <= context.staleAfterMs);
  // A host reporting this gauge judges all its subjects: a mount no longer reported is unmounted.
  const reporting = new Set(fresh.map((gauge) => gauge.hostId));
  return {
    holding: fresh
      .filter((gauge) => gauge.value > above)
      .flatMap((gauge) => {
        const host = hostLabels(context, gauge.hostId);
        if (host === null) return [];
        return [
          {
            labels: { ...host.labels, ...gauge.labels },
            hostId: gauge.hostId,
            value: gauge.value,
            summary: `${host.name}: ${describe(gauge.labels, gauge.value)}`,
          },
        ];
      }),
    judged: (alert) => alert.hostId !== null && reporting.has(alert.hostId),
  };
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
