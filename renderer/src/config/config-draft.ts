import { CONFIG_ENVIRONMENTS, type ConfigEnvironment, type MethodParams } from '../../../electron/contract';

/** The install's values as the operator edits them: one YAML text and the environment to load it for. */
export interface ConfigDraft {
  /** null: the text's own `environment:`, else production (as the CLI without --env). */
  environment: ConfigEnvironment | null;
  /** Shown in every error as the file: install.yaml:4:24. */
  name: string;
  text: string;
}

export const EMPTY_DRAFT: ConfigDraft = { environment: null, name: 'install.yaml', text: '' };

/** A draft kept in session storage, if it still has the shape of one. */
export function restoreConfigDraft(stored: unknown): ConfigDraft | null {
  if (typeof stored !== 'object' || stored === null) return null;
  const { environment, name, text } = stored as Record<string, unknown>;
  const knownEnvironment = environment === null || (CONFIG_ENVIRONMENTS as readonly unknown[]).includes(environment);
  if (!knownEnvironment || typeof name !== 'string' || name === '' || typeof text !== 'string') return null;
  return { environment: environment as ConfigEnvironment | null, name, text };
}

/** The layers to check for a draft: the text over the shipped defaults and the chosen environment. */
export function checkParams(draft: ConfigDraft): MethodParams<'config.check'> {
  return {
    install: [{ name: draft.name, text: draft.text }],
    ...(draft.environment === null ? {} : { environment: draft.environment }),
  };
}
