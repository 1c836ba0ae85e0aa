import { ApiError } from '../../contract';
import { errorCode } from './store-errors';

/** Rows that belong to a host fail the foreign key once the host has been removed. */
export function isForeignKeyViolation(error: unknown): boolean {
  return errorCode(error) === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

export function hostNotFoundError(hostId: number, cause?: unknown): ApiError {
  return new ApiError(
    'HOST_NOT_FOUND',
    `Host ${hostId} does not exist (it may have been removed).`,
    'Refresh the host list; if the machine should be managed, add it again.',
    { cause },
  );
}
