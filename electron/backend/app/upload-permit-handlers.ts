import type { MethodHandlers } from '../server/dispatcher';
import type { OneTimeFiles } from '../server/one-time-files';

/**
 * uploads.permit: loopback web mode's leave for one upload, naming the operator this pipe is
 * signed in as now (server/upload-permits.ts). What the upload may be is judged when it
 * arrives, against that operator as it is then.
 */
export function createUploadPermitHandlers({ downloads }: { downloads: OneTimeFiles }): Pick<MethodHandlers, 'uploads.permit'> {
  return {
    'uploads.permit': ({ kind }, caller) => downloads.permits.issue(caller.actor, kind, { operatorId: caller.operator?.id }),
  };
}
