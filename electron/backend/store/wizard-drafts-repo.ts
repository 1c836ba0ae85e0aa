import type Database from 'better-sqlite3';
import type { ConfigEnvironment, HostRoleChoice, WizardDraft, WizardHostConfig, WizardStep } from '../../contract';

interface RawDraft {
  draftId: string;
  step: WizardStep;
  bundleId: number | null;
  installName: string;
  hostIds: string;
  roles: string;
  environment: ConfigEnvironment | null;
  configName: string;
  configText: string;
  hostConfigs: string;
  preflightAccepted: number;
  probeJobId: string | null;
  installJobId: string | null;
  createdAt: number;
  updatedAt: number;
}

const COLUMNS = `id AS draftId, step, bundle_id AS bundleId, install_name AS installName, host_ids AS hostIds, roles,
  environment, config_name AS configName, config_text AS configText, host_configs AS hostConfigs, preflight_accepted AS preflightAccepted,
  probe_job_id AS probeJobId, install_job_id AS installJobId, created_at AS createdAt, updated_at AS updatedAt`;

function toDraft(raw: RawDraft): WizardDraft {
  return {
    draftId: raw.draftId,
    step: raw.step,
    bundleId: raw.bundleId,
    installName: raw.installName,
    hostIds: JSON.parse(raw.hostIds) as number[],
    roles: JSON.parse(raw.roles) as HostRoleChoice[],
    environment: raw.environment,
    config: { name: raw.configName, text: raw.configText },
    hostConfigs: JSON.parse(raw.hostConfigs) as WizardHostConfig[],
    preflightAccepted: raw.preflightAccepted === 1,
    probeJobId: raw.probeJobId,
    installJobId: raw.installJobId,
    createdAt: raw.createdAt,
    updatedAt: raw.updatedAt,
  };
}

export interface WizardDraftsRepo {
  get(draftId: string): WizardDraft | null;
  newest(): WizardDraft | null;
  save(draft: Omit<WizardDraft, 'createdAt' | 'updatedAt'>, now: number): WizardDraft;
  discard(draftId: string): boolean;
}

/** The install wizard's drafts, one row each, written whole on every save. */
export function createWizardDraftsRepo(db: Database.Database): WizardDraftsRepo {
  const byId = db.prepare<[string], RawDraft>(`SELECT ${COLUMNS} FROM wizard_drafts WHERE id = ?`);
  // rowid breaks a tie between two saves in the same millisecond: the later one is newer.
  const newest = db.prepare<[], RawDraft>(`SELECT ${COLUMNS} FROM wizard_drafts ORDER BY updated_at DESC, rowid DESC LIMIT 1`);
  const upsert = db.prepare(
    `INSERT INTO wizard_drafts (id, step, bundle_id, install_name, host_ids, roles, environment, config_name, config_text, host_configs, preflight_accepted, probe_job_id, install_job_id, created_at, updated_at)
     VALUES (@draftId, @step, @bundleId, @installName, @hostIds, @roles, @environment, @configName, @configText, @hostConfigs, @preflightAccepted, @probeJobId, @installJobId, @now, @now)
     ON CONFLICT (id) DO UPDATE SET step = excluded.step, bundle_id = excluded.bundle_id, install_name = excluded.install_name, host_ids = excluded.host_ids,
       roles = excluded.roles, environment = excluded.environment, config_name = excluded.config_name, config_text = excluded.config_text, host_configs = excluded.host_configs,
       preflight_accepted = excluded.preflight_accepted, probe_job_id = excluded.probe_job_id, install_job_id = excluded.install_job_id, updated_at = excluded.updated_at`,
  );
  const remove = db.prepare<[string]>('DELETE FROM wizard_drafts WHERE id = ?');

  return {
    get(draftId: string): WizardDraft | null {
      const raw = byId.get(draftId);
      return raw ? toDraft(raw) : null;
    },
    newest(): WizardDraft | null {
      const raw = newest.get();
      return raw ? toDraft(raw) : null;
    },
    save(draft: Omit<WizardDraft, 'createdAt' | 'updatedAt'>, now: number): WizardDraft {
      upsert.run({
        draftId: draft.draftId,
        step: draft.step,
        bundleId: draft.bundleId,
        installName: draft.installName,
        hostIds: JSON.stringify(draft.hostIds),
        roles: JSON.stringify(draft.roles),
        environment: draft.environment,
        configName: draft.config.name,
        configText: draft.config.text,
        hostConfigs: JSON.stringify(draft.hostConfigs),
        preflightAccepted: draft.preflightAccepted ? 1 : 0,
        probeJobId: draft.probeJobId,
        installJobId: draft.installJobId,
        now,
      });
      return toDraft(byId.get(draft.draftId)!);
    },
    discard(draftId: string): boolean {
      return remove.run(draftId).changes > 0;
    },
  };
}
