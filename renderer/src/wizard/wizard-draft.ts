import {
  InstallNameSchema,
  WIZARD_STEPS,
  type BundleSummary,
  type HostRoleChoice,
  type HostSummary,
  type InstallDefinition,
  type Placement,
  type WizardDraftInput,
  type WizardStep,
} from '../../../electron/contract';
import type { ConfigDraft } from '../config/config-draft';

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

/** Chooses or drops a host; its role goes with it. */
export function toggleHost(draft: WizardDraftInput, hostId: number, on: boolean): Pick<WizardDraftInput, 'hostIds' | 'roles' | 'preflightAccepted'> {
  const hostIds = on ? [...new Set([...draft.hostIds, hostId])] : draft.hostIds.filter((id) => id !== hostId);
  // The failures the operator accepted were those of other hosts.
  return { hostIds, roles: draft.roles.filter((r) => hostIds.includes(r.hostId)), preflightAccepted: false };
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

/** Why the install's name is refused, or null. */
export function installNameProblem(name: string): string | null {
  const parsed = InstallNameSchema.safeParse(name);
  return parsed.success ? null : `The install’s name: ${parsed.error.issues[0]?.message ?? 'invalid'}.`;
}

/**
 * The install definition the draft describes, as installs.plan and installs.start take it
 * (the CLI's install file as an object); null while a part it needs is missing.
 */
export function definitionOf(draft: WizardDraftInput, bundle: BundleSummary | undefined, hosts: readonly HostSummary[]): InstallDefinition | null {
  if (!bundle || installNameProblem(draft.installName) !== null || !rolesCoverHosts(draft)) return null;
  const names = new Map(hosts.map((h) => [h.id, h.name]));
  const entries = draft.hostIds.map((hostId) => {
    const role = draft.roles.find((r) => r.hostId === hostId)!;
    const name = names.get(hostId);
    return name === undefined ? null : { name, role: role.role, gpu: role.gpu };
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
