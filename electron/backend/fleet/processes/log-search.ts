import type { LogSearch } from '../../../contract';
import { BudgetExceeded, compileLinearRegex, PatternError, type WorkBudget } from './linear-regex';
import { searchInvalidError, searchTooCostlyError } from './process-errors';

/**
 * How much matching one answer (or one batch of a followed log) may do: steps of the
 * linear matcher, about a second of this thread on a busy machine. The matcher's time is
 * bounded by line length times pattern size, so this bound is what keeps a large pattern
 * over many 1 MB lines from holding up the backend's other clients.
 */
export const SEARCH_BUDGET_STEPS = 30_000_000;

/** Whether a line matches; throws LOG_SEARCH_TOO_COSTLY when the budget it is given runs out. */
export type LineMatcher = (text: string, budget: WorkBudget) => boolean;

/** The search as a matcher, or LOG_SEARCH_INVALID (syntax, back-references, look-around, too large) before any line is read. */
export function compileLogSearch(search: LogSearch): LineMatcher {
  if (!search.regex) {
    const needle = search.ignoreCase ? search.pattern.toLowerCase() : search.pattern;
    return (text) => (search.ignoreCase ? text.toLowerCase() : text).includes(needle);
  }
  let compiled;
  try {
    compiled = compileLinearRegex(search.pattern, { ignoreCase: search.ignoreCase });
  } catch (error) {
    if (error instanceof PatternError) throw searchInvalidError(search.pattern, error.message);
    throw error;
  }
  return (text, budget) => compiled.test(text, budget);
}

/** The lines that match, in order; LOG_SEARCH_TOO_COSTLY when the work would pass the budget. */
export function filterLines<T extends { text: string }>(lines: readonly T[], matcher: LineMatcher, budgetSteps = SEARCH_BUDGET_STEPS): T[] {
  const budget: WorkBudget = { steps: budgetSteps };
  try {
    return lines.filter((line) => matcher(line.text, budget));
  } catch (error) {
    if (error instanceof BudgetExceeded) throw searchTooCostlyError(lines.length);
    throw error;
  }
}
