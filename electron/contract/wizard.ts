import { z } from 'zod';
import { ConfigEnvironmentSchema, ConfigTextSchema } from './config';
import { HostIdSchema } from './hosts';
import { HostRoleChoiceSchema } from './installs';

/**
 * The install wizard's draft, kept in the backend's store so that closing the app mid-way
 * and opening it again continues where the operator was. It holds what the operator
 * chose and typed, valid or not yet: each step checks its own part before moving on.
 */

export const WIZARD_STEPS = ['bundle', 'hosts', 'preflight', 'roles', 'configuration', 'review', 'install', 'done'] as const;
export const WizardStepSchema = z.enum(WIZARD_STEPS);
export type WizardStep = z.infer<typeof WizardStepSchema>;

/** The backend's ids for drafts and jobs (UUIDs); the contract allows up to 64 characters. */
const JobIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

/**
 * A chosen host's override layer, kept beside the roles rather than in them: the role
 * choice is strict and shared with preflight, which has no use for configuration.
 */
export const WizardHostConfigSchema = z.object({ hostId: HostIdSchema, config: ConfigTextSchema }).strict();
export type WizardHostConfig = z.infer<typeof WizardHostConfigSchema>;

export const WizardDraftInputSchema = z
  .object({
    /** Absent: a new draft, whose id the answer carries. */
    draftId: JobIdSchema.optional(),
    step: WizardStepSchema,
    /** The imported bundle chosen (bundles.list id). */
    bundleId: z.number().int().positive().nullable(),
    /** As typed; checked against the install name's rule before the plan. */
    installName: z.string().max(64),
    hostIds: z.array(HostIdSchema).max(500),
    roles: z.array(HostRoleChoiceSchema).max(500),
    environment: ConfigEnvironmentSchema.nullable(),
    config: ConfigTextSchema,
    /** Per-host overrides, over the install's values; absent in drafts saved before they existed. */
    hostConfigs: z.array(WizardHostConfigSchema).max(500).default([]),
    /** The operator read the failed preflight checks and goes on anyway. */
    preflightAccepted: z.boolean(),
    /** The hosts step's bulk probe, followed again after a reload. */
    probeJobId: JobIdSchema.nullable(),
    /** The install step's apply job. */
    installJobId: JobIdSchema.nullable(),
  })
  .strict();
export type WizardDraftInput = z.infer<typeof WizardDraftInputSchema>;

export const WizardDraftSchema = WizardDraftInputSchema.extend({
  draftId: JobIdSchema,
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});
export type WizardDraft = z.infer<typeof WizardDraftSchema>;
