import { ApiError } from '../../../electron/contract';
import type { ActionState } from '../api/use-api-action';
import { fieldOfErrorCode, type FieldErrors } from './host-form';

/** The form's own errors plus the backend's refusal, when it names one field (a taken name, an unreadable key). */
export function withServerError(errors: FieldErrors, state: ActionState<unknown>): FieldErrors {
  if (state.status !== 'error' || !(state.error instanceof ApiError)) return errors;
  const field = fieldOfErrorCode(state.error.code);
  if (field === null || errors[field] !== undefined) return errors;
  return { ...errors, [field]: state.error.message };
}
