import type { HostFacts, Outcome, PreflightCheck } from '../../contract';
import { compareVersions, freeBytesAt, normaliseArch, osId } from './host-facts-view';
import type { RequirementProfile } from './profile-schema';

const GiB = 1024 ** 3;
const gib = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;

function check(id: string, title: string, outcome: Outcome, message: string, remedy = ''): PreflightCheck {
  return { id, title, outcome, message, remedy: outcome === 'pass' ? '' : remedy };
}

/** Facts the probe could not read make a warning, never a silent pass. */
function unknown(id: string, title: string, what: string): PreflightCheck {
  return check(
    id,
    title,
    'warn',
    `${what} is unknown for this host.`,
    'Probe the host again; if it stays unknown, check the facts page for the reason.',
  );
}

/**
 * Judges one host's facts against a profile. Each analyzer returns pass, warn or fail
 * with what it found and, unless it passed, what to do about it.
 */
/** What this app knows about a host beyond its facts. */
export interface HostContext {
  /** The SutazAI release an install of this app made current on the host, if any. */
  installed?: { version: string; install: string } | null;
}

export function analyzeHost(facts: HostFacts, profile: RequirementProfile, context: HostContext = {}): PreflightCheck[] {
  const checks: PreflightCheck[] = [];

  if (profile.cpu) {
    const { minThreads, warnBelowThreads } = profile.cpu;
    const threads = facts.cpu?.threads;
    if (threads === undefined) checks.push(unknown('cpu.threads', 'CPU threads', 'The CPU'));
    else if (threads < minThreads)
      checks.push(
        check(
          'cpu.threads',
          'CPU threads',
          'fail',
          `${threads} hardware threads; ${profile.name} needs at least ${minThreads}.`,
          `Use a machine with ${minThreads} or more threads, or give this VM more vCPUs.`,
        ),
      );
    else if (warnBelowThreads && threads < warnBelowThreads)
      checks.push(
        check(
          'cpu.threads',
          'CPU threads',
          'warn',
          `${threads} hardware threads; ${warnBelowThreads} or more are recommended.`,
          'It will run, but slowly under load; add CPUs when you can.',
        ),
      );
    else checks.push(check('cpu.threads', 'CPU threads', 'pass', `${threads} hardware threads (needs ${minThreads}).`));
  }

  if (profile.memory) {
    const { minBytes, warnBelowBytes } = profile.memory;
    const total = facts.memory?.totalBytes;
    if (total === undefined) checks.push(unknown('memory.total', 'Memory', 'Total memory'));
    // A few percent below the nominal size is normal: firmware and the kernel keep some.
    else if (total < minBytes * 0.95)
      checks.push(
        check(
          'memory.total',
          'Memory',
          'fail',
          `${gib(total)} of memory; ${profile.name} needs ${gib(minBytes)}.`,
          `Add memory or choose a machine with at least ${gib(minBytes)}.`,
        ),
      );
    else if (warnBelowBytes && total < warnBelowBytes * 0.95)
      checks.push(
        check(
          'memory.total',
          'Memory',
          'warn',
          `${gib(total)} of memory; ${gib(warnBelowBytes)} is recommended.`,
          'It will run with less headroom; add memory when you can.',
        ),
      );
    else checks.push(check('memory.total', 'Memory', 'pass', `${gib(total)} of memory (needs ${gib(minBytes)}).`));
  }

  if (profile.disk) {
    const { installPath, minFreeBytes, warnBelowFreeBytes } = profile.disk;
    const free = freeBytesAt(facts, installPath);
    if (!free) checks.push(unknown('disk.free', `Free space at ${installPath}`, `The filesystem holding ${installPath}`));
    else if (free.bytes < minFreeBytes)
      checks.push(
        check(
          'disk.free',
          `Free space at ${installPath}`,
          'fail',
          `${gib(free.bytes)} free on ${free.mount}; the install needs ${gib(minFreeBytes)}.`,
          `Free space on ${free.mount} or mount a larger volume at ${installPath}.`,
        ),
      );
    else if (warnBelowFreeBytes && free.bytes < warnBelowFreeBytes)
      checks.push(
        check(
          'disk.free',
          `Free space at ${installPath}`,
          'warn',
          `${gib(free.bytes)} free on ${free.mount}; ${gib(warnBelowFreeBytes)} is recommended for logs and upgrades.`,
          `Free space on ${free.mount} before the first upgrade.`,
        ),
      );
    else
      checks.push(
        check(
          'disk.free',
          `Free space at ${installPath}`,
          'pass',
          `${gib(free.bytes)} free on ${free.mount} (needs ${gib(minFreeBytes)}).`,
        ),
      );
  }

  if (profile.os) {
    const family = facts.os.family;
    const id = osId(facts);
    if (!profile.os.families.includes(family)) {
      checks.push(
        check(
          'os.family',
          'Operating system',
          'fail',
          `${facts.os.distro} ${facts.os.release} (${family}) is not a supported family (${profile.os.families.join(', ')}).`,
          'Install a supported Linux distribution.',
        ),
      );
    } else {
      const min = profile.os.versions?.[id]?.min ?? profile.os.versions?.[family]?.min;
      if (min && compareVersions(facts.os.release, min) < 0)
        checks.push(
          check(
            'os.version',
            'Operating system',
            'fail',
            `${facts.os.distro} ${facts.os.release} is older than the ${min} ${profile.name} needs.`,
            `Upgrade to ${id} ${min} or newer.`,
          ),
        );
      else
        checks.push(
          check('os.family', 'Operating system', 'pass', `${facts.os.distro} ${facts.os.release}${min ? ` (needs ${min} or newer)` : ''}.`),
        );
    }
  }

  if (profile.architectures) {
    const arch = normaliseArch(facts.os.arch);
    if (profile.architectures.includes(arch as (typeof profile.architectures)[number]))
      checks.push(check('os.arch', 'Architecture', 'pass', `${arch}.`));
    else
      checks.push(
        check(
          'os.arch',
          'Architecture',
          'fail',
          `${arch} is not supported (${profile.architectures.join(', ')}).`,
          'Use an x64 or arm64 machine.',
        ),
      );
  }

  if (profile.init !== 'any') {
    const init = facts.initSystem?.kind;
    if (init === undefined) checks.push(unknown('init', 'Init system', 'The init system'));
    else if (init === 'systemd')
      checks.push(check('init', 'Init system', 'pass', 'systemd runs this host; the runtime installs as a service.'));
    else
      checks.push(
        check(
          'init',
          'Init system',
          profile.init === 'systemd' ? 'fail' : 'warn',
          `This host's init system is ${init}, not systemd.`,
          profile.init === 'systemd'
            ? 'Use a host booted with systemd.'
            : 'The runtime will run in detached per-user mode and will not start at boot by itself.',
        ),
      );
  }

  if (profile.gpus) {
    const { minCount, minMemoryBytes, minDriver, vendor } = profile.gpus;
    const gpus = (facts.gpus ?? []).filter((g) => vendor === 'any' || /nvidia/i.test(`${g.vendor} ${g.model}`));
    if (facts.gpus === null) checks.push(unknown('gpu.count', 'GPUs', 'The GPU list'));
    else if (gpus.length < minCount)
      checks.push(
        check(
          'gpu.count',
          'GPUs',
          'fail',
          `${gpus.length} ${vendor === 'nvidia' ? 'NVIDIA ' : ''}GPU(s) found; ${profile.name} needs ${minCount}.`,
          'Run GPU agents on a machine with an NVIDIA GPU and its driver installed (nvidia-smi must work).',
        ),
      );
    else {
      checks.push(check('gpu.count', 'GPUs', 'pass', `${gpus.length} GPU(s): ${gpus.map((g) => g.model).join(', ')}.`));
      if (minMemoryBytes) {
        const small = gpus.filter((g) => g.memoryBytes === null || g.memoryBytes < minMemoryBytes * 0.95);
        checks.push(
          small.length === 0
            ? check('gpu.memory', 'GPU memory', 'pass', `Every GPU has at least ${gib(minMemoryBytes)}.`)
            : check(
                'gpu.memory',
                'GPU memory',
                'fail',
                `${small.map((g) => `${g.model} (${g.memoryBytes === null ? 'unknown' : gib(g.memoryBytes)})`).join(', ')} below ${gib(minMemoryBytes)}.`,
                'Use GPUs with more memory for GPU agents.',
              ),
        );
      }
      if (minDriver) {
        const old = gpus.filter((g) => !g.driverVersion || compareVersions(g.driverVersion, minDriver) < 0);
        checks.push(
          old.length === 0
            ? check('gpu.driver', 'GPU driver', 'pass', `Driver ${gpus[0]?.driverVersion} (needs ${minDriver} or newer).`)
            : check(
                'gpu.driver',
                'GPU driver',
                'fail',
                `Driver ${old[0]?.driverVersion ?? 'unknown'} is older than ${minDriver} (or unknown).`,
                `Install NVIDIA driver ${minDriver} or newer.`,
              ),
        );
      }
    }
  }

  if (profile.ports) {
    const listening = facts.listeningPorts;
    if (listening === undefined || listening === null) checks.push(unknown('ports.free', 'Ports', 'The list of listening ports'));
    else {
      const busy = profile.ports.mustBeFree.filter((port) => listening.some((l) => l.port === port));
      const installed = context.installed;
      if (busy.length === 0) checks.push(check('ports.free', 'Ports', 'pass', `Ports ${profile.ports.mustBeFree.join(', ')} are free.`));
      else if (installed) {
        // The install's own runtime holds its ports; an upgrade or re-apply takes them over,
        // and apply itself refuses a listener that is not the install's own process.
        checks.push(
          check(
            'ports.free',
            'Ports',
            'pass',
            `Port(s) ${busy.join(', ')} have a listener: SutazAI ${installed.version} (install ${installed.install}) runs on this host, and its runtime holds them. Apply checks that each listener is its own before it starts.`,
          ),
        );
      } else
        checks.push(
          check(
            'ports.free',
            'Ports',
            'fail',
            `Port(s) ${busy.join(', ')} already have a listener.`,
            'Stop the program listening there (`ss -ltnp` shows which), or configure SutazAI to use other ports.',
          ),
        );
    }
  }

  const privilege = facts.privilege;
  const systemWide =
    'The install will go under the home directory and cannot register a system service; use root or a sudo-capable user for a system-wide install.';
  if (privilege?.level === 'none')
    checks.push(check('privilege', 'Privilege', 'warn', 'The login is not root and cannot use sudo.', systemWide));
  else if (privilege?.level === 'unknown') {
    // Never a pass: a login that may not use sudo looks like this until a password is tried.
    const why = facts.unknown.find((u) => u.field === 'privilege')?.reason;
    checks.push(
      check(
        'privilege',
        'Privilege',
        'warn',
        `Whether the login can become root is unknown${why ? `: ${why}` : ''}.`,
        `Store the sudo password in the host settings (or use root or passwordless sudo) and probe again. ${systemWide}`,
      ),
    );
  } else if (privilege?.level === 'sudo-password' && privilege.sudoPasswordVerified === false) {
    checks.push(
      check(
        'privilege',
        'Privilege',
        'warn',
        'sudo refused the stored password.',
        `Correct the sudo password in the host settings and probe again. ${systemWide}`,
      ),
    );
  } else if (privilege) checks.push(check('privilege', 'Privilege', 'pass', `Login privilege: ${privilege.level}.`));

  return checks;
}

export function worst(outcomes: Outcome[]): Outcome {
  return outcomes.includes('fail') ? 'fail' : outcomes.includes('warn') ? 'warn' : 'pass';
}
