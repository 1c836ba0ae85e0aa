import type { InitSystemFacts, PrivilegeFacts, VirtualizationFacts } from '../../../electron/contract';

/** "VM (kvm)", "Container (docker)", "None (bare metal)". */
export function describeVirtualization(virt: VirtualizationFacts): string {
  switch (virt.kind) {
    case 'none':
      return 'None (bare metal)';
    case 'vm':
      return virt.name ? `VM (${virt.name})` : 'VM';
    case 'container':
      return virt.name ? `Container (${virt.name})` : 'Container';
    case 'unknown':
      return virt.name ? `Unknown (${virt.name})` : 'Unknown';
  }
}

export function describeInitSystem(init: InitSystemFacts): string {
  switch (init.kind) {
    case 'systemd':
      return 'systemd';
    case 'openrc':
      return 'OpenRC';
    case 'other':
      return init.pid1 ? `Other (PID 1 is ${init.pid1})` : 'Other';
  }
}

/** What the login may do, in the words the install plan will use. */
export function describePrivilege(privilege: PrivilegeFacts): string {
  switch (privilege.level) {
    case 'root':
      return 'Root';
    case 'sudo-nopasswd':
      return 'sudo without a password';
    case 'sudo-password':
      if (privilege.sudoPasswordVerified === true) return 'sudo with a password (the stored one works)';
      if (privilege.sudoPasswordVerified === false) return 'sudo with a password (the stored one was refused)';
      return 'sudo with a password (none stored)';
    case 'none':
      return 'None: not root and no sudo';
    case 'unknown':
      return 'Unknown: sudo wanted a terminal or gave no answer';
  }
}

/** "UTC+01:00", "UTC−05:30", "UTC". */
export function formatUtcOffset(minutes: number): string {
  if (minutes === 0) return 'UTC';
  const sign = minutes > 0 ? '+' : '−';
  const abs = Math.abs(minutes);
  return `UTC${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/**
 * The host's clock against this machine's when the probe answered: "in step" within a
 * second (the probe's own round trip is in there), else how far ahead or behind.
 */
export function describeClockSkew(skewMs: number): string {
  const abs = Math.abs(skewMs);
  if (abs < 1000) return 'in step with this machine';
  const amount =
    abs < 60_000
      ? `${(abs / 1000).toFixed(1)} s`
      : abs < 3_600_000
        ? `${Math.round(abs / 60_000)} min`
        : `${(abs / 3_600_000).toFixed(1)} h`;
  return `${amount} ${skewMs > 0 ? 'ahead of' : 'behind'} this machine`;
}

/** A skew that breaks TLS validity windows or log ordering (the cross-host check warns past 5 s). */
export function clockSkewLevel(skewMs: number): 'ok' | 'warn' | 'fail' {
  const abs = Math.abs(skewMs);
  return abs > 60_000 ? 'fail' : abs > 5_000 ? 'warn' : 'ok';
}
