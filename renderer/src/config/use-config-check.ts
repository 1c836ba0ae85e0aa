import type { ConfigCheckResult, ConfigProblem, MethodParams } from '../../../electron/contract';
import { useApiQuery } from '../api/queries';
import { useDebouncedValue } from '../ui/use-debounced-value';

/** Long enough not to check on every key, short enough to feel like checking as you type. */
const CHECK_DEBOUNCE_MS = 350;

export type ConfigCheckState = 'checking' | 'valid' | 'invalid' | 'error';

/**
 * Layers checked by the backend as they are typed: asked once the typing pauses, the last
 * answer kept meanwhile. Every caller with the same layers shares one query, so a step that
 * only needs the verdict and the editor that shows it ask the backend once.
 */
export function useConfigCheck(params: MethodParams<'config.check'>) {
  const settled = useDebouncedValue(params, CHECK_DEBOUNCE_MS);
  const check = useApiQuery('config.check', settled, { keepPrevious: true, staleTime: Infinity, gcTime: 60_000 });
  const typing = JSON.stringify(settled) !== JSON.stringify(params);
  const current = !typing && !check.isPlaceholderData && !check.isFetching;
  const result: ConfigCheckResult | undefined = check.data;
  const state: ConfigCheckState = !current ? 'checking' : check.isError ? 'error' : result?.valid ? 'valid' : 'invalid';
  const problem: ConfigProblem | null = result && !result.valid ? result.problem : null;
  return {
    state,
    result,
    problem,
    /** The layers `result` answers, or null while newer ones are being checked. */
    checkedParams: current ? settled : null,
    error: check.isError ? check.error : null,
    retry: () => void check.refetch(),
  };
}

/** The line to mark in the editor of the text named `name`: only a problem written there. */
export function errorLineIn(problem: ConfigProblem | null, name: string): number | null {
  const origin = problem?.origin;
  return origin && origin.file === name && origin.kind !== 'env' ? origin.line : null;
}
