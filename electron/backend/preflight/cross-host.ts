import type { HostFacts, PreflightCheck } from '../../contract';

export interface CrossHostInput {
  hostId: number;
  hostName: string;
  address: string;
  facts: HostFacts | null;
}

export type CrossHostCheck = PreflightCheck & { hostIds: number[] };

/** Skew beyond these breaks TLS validity windows and makes logs impossible to line up. */
export const SKEW_WARN_MS = 5_000;
export const SKEW_FAIL_MS = 60_000;

function duplicates(inputs: CrossHostInput[], keyOf: (i: CrossHostInput) => string | null | undefined) {
  const groups = new Map<string, CrossHostInput[]>();
  for (const input of inputs) {
    const key = keyOf(input);
    if (!key) continue;
    groups.set(key, [...(groups.get(key) ?? []), input]);
  }
  return [...groups.entries()].filter(([, group]) => group.length > 1);
}

/** Checks that only make sense across the selected hosts, as one cluster. */
export function analyzeAcrossHosts(inputs: CrossHostInput[]): CrossHostCheck[] {
  const checks: CrossHostCheck[] = [];
  const uniqueness: Array<[string, string, (i: CrossHostInput) => string | null | undefined, string]> = [
    [
      'unique.hostname',
      'Unique hostnames',
      (i) => i.facts?.os.hostname,
      'Give each machine its own hostname (hostnamectl set-hostname); agents register with the core by hostname.',
    ],
    [
      'unique.machine-id',
      'Unique machine-ids',
      (i) => i.facts?.machineId,
      'These machines were cloned without resetting /etc/machine-id: run `rm /etc/machine-id && systemd-machine-id-setup` on each clone.',
    ],
    ['unique.address', 'Unique addresses', (i) => i.address, 'Two inventory entries point at the same address; remove the duplicate.'],
  ];
  for (const [id, title, keyOf, remedy] of uniqueness) {
    const dups = duplicates(inputs, keyOf);
    if (dups.length === 0)
      checks.push({
        id,
        title,
        outcome: 'pass',
        message: `No two selected hosts share one.`,
        remedy: '',
        hostIds: inputs.map((i) => i.hostId),
      });
    for (const [value, group] of dups) {
      checks.push({
        id,
        title,
        outcome: 'fail',
        message: `${group.map((g) => g.hostName).join(', ')} share ${value}.`,
        remedy,
        hostIds: group.map((g) => g.hostId),
      });
    }
  }
  for (const input of inputs) {
    const clock = input.facts?.clock;
    if (!input.facts || !clock) continue;
    // The probe's clock reading against the operator's clock when the answer arrived.
    const skew = clock.epochMs - input.facts.probedAt;
    const abs = Math.abs(skew);
    const outcome = abs > SKEW_FAIL_MS ? 'fail' : abs > SKEW_WARN_MS ? 'warn' : 'pass';
    checks.push({
      id: 'clock.skew',
      title: `Clock of ${input.hostName}`,
      outcome,
      message: `${input.hostName}'s clock is ${(abs / 1000).toFixed(1)} s ${skew >= 0 ? 'ahead of' : 'behind'} this machine's.`,
      remedy:
        outcome === 'pass'
          ? ''
          : 'Synchronise the clocks (chrony or systemd-timesyncd against a local NTP server; air-gapped sites can serve time from one host).',
      hostIds: [input.hostId],
    });
  }
  return checks;
}
