import {
  InstallNameSchema,
  WIZARD_STEPS,
  type BundleSummary,
  type ConfigText,
  type HostRoleChoice,
  type HostSummary,
  type InstallDefinition,
  type MethodParams,
  type Placement,
  type WizardDraftInput,
  type WizardHostConfig,
  type WizardStep,
} from '../../../electron/contract';
import type { ConfigCheckState } from '../config/use-config-check';
import { checkParams, type ConfigDraft } from '../config/config-draft';

export const STEP_LABELS: Record<WizardStep, string> = {
  bundle: 'Bundle',
  hosts: 'Hosts',
  preflight: 'Preflight',
  roles: 'Roles',
  configuration: 'Configuration',
  review: 'Review the plan',
  install: 'Install',
  done: 'Done',
};

/** A wizard nobody has touched: the first step, nothing chosen yet. */
export function newWizardDraft(): WizardDraftInput {
  return {
    step: 'bundle',
    bundleId: null,
    installName: 'sutazai',
    hostIds: [],
    roles: [],
    environment: null,
    config: { name: 'install.yaml', text: '' },
    hostConfigs: [],
    preflightAccepted: false,
    probeJobId: null,
    installJobId: null,
  };
}

export function stepIndex(step: WizardStep): number {
  return WIZARD_STEPS.indexOf(step);
}

export function previousStep(step: WizardStep): WizardStep | null {
  return WIZARD_STEPS[stepIndex(step) - 1] ?? null;
}

export function nextStep(step: WizardStep): WizardStep | null {
  return WIZARD_STEPS[stepIndex(step) + 1] ?? null;
}

/** The configuration step's part of the draft, in the shape the configuration editor takes. */
export function configDraftOf(draft: WizardDraftInput): ConfigDraft {
  return { environment: draft.environment, name: draft.config.name, text: draft.config.text };
}

/** Chooses or drops a host; its role and its configuration override go with it. */
export function toggleHost(
  draft: WizardDraftInput,
  hostId: number,
  on: boolean,
): Pick<WizardDraftInput, 'hostIds' | 'roles' | 'hostConfigs' | 'preflightAccepted'> {
  const hostIds = on ? [...new Set([...draft.hostIds, hostId])] : draft.hostIds.filter((id) => id !== hostId);
  return {
    hostIds,
    roles: draft.roles.filter((r) => hostIds.includes(r.hostId)),
    hostConfigs: draft.hostConfigs.filter((c) => hostIds.includes(c.hostId)),
    // The failures the operator accepted were those of other hosts.
    preflightAccepted: false,
  };
}

/** A chosen host's override layer as typed (perhaps still empty), or null when it has none. */
export function hostConfigOf(draft: WizardDraftInput, hostId: number): ConfigText | null {
  return draft.hostConfigs.find((c) => c.hostId === hostId)?.config ?? null;
}

/**
 * The overrides that become layers: those of chosen hosts with some text. An empty one
 * is the install's values unchanged, as an empty install text is the shipped defaults.
 */
export function activeHostConfigs(draft: WizardDraftInput): WizardHostConfig[] {
  return draft.hostConfigs.filter((c) => draft.hostIds.includes(c.hostId) && c.config.text.trim() !== '');
}

/**
 * The file name a new override of a host gets, host-<name>.yaml: every error and origin
 * names it, so no other layer of the install may have it.
 */
export function hostConfigName(draft: WizardDraftInput, hostName: string): string {
  const taken = new Set([draft.config.name, ...draft.hostConfigs.map((c) => c.config.name)]);
  let name = `host-${hostName}.yaml`;
  for (let n = 2; taken.has(name); n += 1) name = `host-${hostName}-${n}.yaml`;
  return name;
}

/** Sets a chosen host's override, or removes it with null; overrides stay in the hosts' order. */
export function withHostConfig(draft: WizardDraftInput, hostId: number, config: ConfigText | null): Pick<WizardDraftInput, 'hostConfigs'> {
  const others = draft.hostConfigs.filter((c) => c.hostId !== hostId);
  const all = config === null ? others : [...others, { hostId, config }];
  return { hostConfigs: draft.hostIds.flatMap((id) => all.filter((c) => c.hostId === id)) };
}

/** The layers to check for one host: the install's values with the host's override above them. */
export function hostCheckParams(draft: WizardDraftInput, override: ConfigText): MethodParams<'config.check'> {
  return { ...checkParams(configDraftOf(draft)), host: override };
}

/**
 * Why the overrides cannot go on as named, or null. Names are made distinct when an
 * override is added; loading the install's values from a file may take one of them since.
 */
export function hostConfigNamesProblem(draft: WizardDraftInput, hosts: readonly Pick<HostSummary, 'id' | 'name'>[]): string | null {
  const names = new Map(hosts.map((h) => [h.id, h.name]));
  const seen = new Set([draft.config.name]);
  for (const { hostId, config } of activeHostConfigs(draft)) {
    if (seen.has(config.name)) {
      return `The override of ${names.get(hostId) ?? `host ${hostId}`} has the name ${config.name}, as another layer does: remove it and add it again to give it a name of its own.`;
    }
    seen.add(config.name);
  }
  return null;
}

/** Roles for exactly the chosen hosts: kept where the operator set them, the suggestion for the rest. */
export function rolesFor(draft: WizardDraftInput, placements: readonly Placement[]): HostRoleChoice[] {
  const kept = new Map(draft.roles.map((r) => [r.hostId, r]));
  const suggested = new Map(placements.map((p) => [p.hostId, { hostId: p.hostId, role: p.role, gpu: p.gpu }]));
  return draft.hostIds.map((hostId) => kept.get(hostId) ?? suggested.get(hostId) ?? { hostId, role: 'agent', gpu: false });
}

/** True when every chosen host has a role and no other host does. */
export function rolesCoverHosts(draft: WizardDraftInput): boolean {
  const withRole = new Set(draft.roles.map((r) => r.hostId));
  return draft.hostIds.length === withRole.size && draft.hostIds.every((id) => withRole.has(id));
}

/** Why the hosts chosen cannot go on yet, or null when they can. */
export function hostsProblem(chosen: readonly HostSummary[]): string | null {
  if (chosen.length === 0) return 'Choose at least one machine to install on.';
  const untrusted = chosen.filter((h) => h.hostKey === null).map((h) => h.name);
  if (untrusted.length > 0) return `Confirm the host key of ${untrusted.join(', ')} first (on its page, or add it again).`;
  const unprobed = chosen.filter((h) => h.lastProbedAt === null).map((h) => h.name);
  if (unprobed.length > 0) return `Probe ${unprobed.join(', ')} first: placement and preflight judge the hardware it reports.`;
  return null;
}

/** Why the roles cannot go on yet: an install has exactly one core (a host with role core or both). */
export function rolesProblem(roles: readonly HostRoleChoice[]): string | null {
  const cores = roles.filter((r) => r.role !== 'agent').length;
  if (cores === 0) return 'Give exactly one machine the core (role core, or core and agent).';
  if (cores > 1) return `${cores} machines would run the core; an install has exactly one.`;
  return null;
}

/**
 * Why the hosts' overrides keep the wizard from the review, or null: each one with text
 * must pass its check over the install's values, as the install would load it.
 */
export function hostConfigsProblem(
  draft: WizardDraftInput,
  hosts: readonly Pick<HostSummary, 'id' | 'name'>[],
  checks: ReadonlyMap<number, ConfigCheckState>,
): string | null {
  const named = hostConfigNamesProblem(draft, hosts);
  if (named) return named;
  const names = new Map(hosts.map((h) => [h.id, h.name]));
  const active = activeHostConfigs(draft).map((c) => ({
    name: names.get(c.hostId) ?? `host ${c.hostId}`,
    state: checks.get(c.hostId) ?? 'checking',
  }));
  const refused = active.find((c) => c.state === 'invalid');
  if (refused) return `Correct the override of ${refused.name}: the install would stop on it.`;
  const unchecked = active.find((c) => c.state === 'error');
  if (unchecked) return `The override of ${unchecked.name} could not be checked; try again.`;
  const pending = active.find((c) => c.state === 'checking');
  if (pending) return `Checking the override of ${pending.name}…`;
  return null;
}

/** Why the install's name is refused, or null. */
export function installNameProblem(name: string): string | null {
  const parsed = InstallNameSchema.safeParse(name);
  return parsed.success ? null : `The install’s name: ${parsed.error.issues[0]?.message ?? 'invalid'}.`;
}

/**
 * The install definition the draft describes, as installs.plan and installs.start take it
 * (the CLI's install file as an object); null while a part it needs is missing.
 */
export function definitionOf(
  draft: WizardDraftInput,
  bundle: BundleSummary | undefined,
  hosts: readonly HostSummary[],
): InstallDefinition | null {
  if (!bundle || installNameProblem(draft.installName) !== null || !rolesCoverHosts(draft)) return null;
  const names = new Map(hosts.map((h) => [h.id, h.name]));
  const overrides = new Map(activeHostConfigs(draft).map((c) => [c.hostId, c.config]));
  const entries = draft.hostIds.map((hostId) => {
    const role = draft.roles.find((r) => r.hostId === hostId)!;
    const name = names.get(hostId);
    const override = overrides.get(hostId);
    return name === undefined
      ? null
      : { name, role: role.role, gpu: role.gpu, ...(override ? { config: { name: override.name, text: override.text } } : {}) };
  });
  if (entries.some((e) => e === null)) return null;
  return {
    name: draft.installName,
    bundle: `${bundle.name}@${bundle.version}`,
    ...(draft.environment === null ? {} : { environment: draft.environment }),
    // An empty text is the shipped defaults: no layer of its own.
    config: draft.config.text.trim() === '' ? [] : [{ name: draft.config.name, text: draft.config.text }],
    hosts: entries as NonNullable<(typeof entries)[number]>[],
  };
}
