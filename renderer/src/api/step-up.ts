import { createContext, useContext } from 'react';
import { ApiError } from '../../../electron/contract';

/**
 * Asks the operator for a fresh two-factor code when an admin action was refused for want
 * of one (MFA_STEP_UP_REQUIRED, issue 14 item 4): true once the backend took a code for
 * this window, false when there is nothing to ask (no two-factor sign-in) or they cancelled.
 */
export type AskForStepUp = () => Promise<boolean>;

export const StepUpContext = createContext<AskForStepUp | null>(null);

export function useAskForStepUp(): AskForStepUp | null {
  return useContext(StepUpContext);
}

export function needsStepUp(error: unknown): boolean {
  return error instanceof ApiError && error.code === 'MFA_STEP_UP_REQUIRED';
}
