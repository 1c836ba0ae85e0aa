import { randomUUID } from 'node:crypto';
import { ApiError, type WizardDraft, type WizardDraftInput } from '../../contract';
import type { BundlesRepo } from '../store/bundles-repo';
import type { HostsRepo } from '../store/hosts-repo';
import type { WizardDraftsRepo } from '../store/wizard-drafts-repo';

export interface WizardDraftDeps {
  drafts: WizardDraftsRepo;
  bundles: Pick<BundlesRepo, 'get'>;
  hosts: Pick<HostsRepo, 'get'>;
  now: () => number;
}

/** An override belongs to a chosen host, one per host: the install definition has one config per host entry. */
function checkHostConfigs(input: WizardDraftInput, chosen: ReadonlySet<number>): void {
  const seen = new Set<number>();
  for (const { hostId } of input.hostConfigs) {
    if (!chosen.has(hostId)) {
      throw new ApiError(
        'BAD_PARAMS',
        `The draft gives host ${hostId} a configuration override without choosing it.`,
        'Choose the host in the hosts step, or remove its override.',
      );
    }
    if (seen.has(hostId)) {
      throw new ApiError(
        'BAD_PARAMS',
        `The draft gives host ${hostId} two configuration overrides.`,
        'Keep one override per host: merge the two texts into one.',
      );
    }
    seen.add(hostId);
  }
}

export interface WizardDrafts {
  get(draftId?: string): WizardDraft | null;
  save(input: WizardDraftInput): WizardDraft;
  discard(draftId: string): { discarded: boolean };
}

/**
 * The install wizard's drafts: what the operator chose so far, stored on every step so
 * the wizard opens where it was left, even after the app was closed.
 */
export function createWizardDrafts(deps: WizardDraftDeps): WizardDrafts {
  /** A host removed from the inventory since the draft was saved leaves the draft with its role and override. */
  function current(draft: WizardDraft): WizardDraft {
    const hostIds = draft.hostIds.filter((id) => deps.hosts.get(id) !== undefined);
    if (hostIds.length === draft.hostIds.length) return draft;
    const kept = new Set(hostIds);
    return {
      ...draft,
      hostIds,
      roles: draft.roles.filter((r) => kept.has(r.hostId)),
      hostConfigs: draft.hostConfigs.filter((c) => kept.has(c.hostId)),
    };
  }

  return {
    get(draftId?: string): WizardDraft | null {
      const draft = draftId === undefined ? deps.drafts.newest() : deps.drafts.get(draftId);
      if (draftId !== undefined && !draft) {
        throw new ApiError(
          'NOT_FOUND',
          `There is no install wizard draft ${draftId}.`,
          'It was discarded or finished; open the Install page to start a new one.',
        );
      }
      return draft ? current(draft) : null;
    },
    save(input: WizardDraftInput): WizardDraft {
      if (input.draftId !== undefined && !deps.drafts.get(input.draftId)) {
        throw new ApiError(
          'NOT_FOUND',
          `There is no install wizard draft ${input.draftId}.`,
          'It was discarded (perhaps in another window); reload the Install page to start a new one.',
        );
      }
      if (input.bundleId !== null && !deps.bundles.get(input.bundleId)) {
        throw new ApiError(
          'NOT_FOUND',
          `There is no imported bundle ${input.bundleId}.`,
          'Choose one of the imported bundles, or import the bundle again.',
        );
      }
      const chosen = new Set(input.hostIds);
      const stray = input.roles.find((r) => !chosen.has(r.hostId));
      if (stray)
        throw new ApiError(
          'BAD_PARAMS',
          `The draft gives host ${stray.hostId} a role without choosing it.`,
          'Choose the host in the hosts step, or leave its role out.',
        );
      checkHostConfigs(input, chosen);
      return deps.drafts.save({ ...input, draftId: input.draftId ?? randomUUID() }, deps.now());
    },
    discard(draftId: string): { discarded: boolean } {
      return { discarded: deps.drafts.discard(draftId) };
    },
  };
}
