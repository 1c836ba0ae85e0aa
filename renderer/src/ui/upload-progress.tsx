import type { UploadState } from '../api/use-upload';
import { ErrorNotice } from './query-state';

function size(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${Math.ceil(bytes / 1024)} KiB`;
}

/** An upload's progress while it is sent, or why it was refused; nothing otherwise. */
export function UploadProgress({ state, failedTitle }: { state: UploadState; failedTitle: string }) {
  if (state.status === 'sending') {
    const percent = state.totalBytes > 0 ? Math.floor((state.sentBytes / state.totalBytes) * 100) : 100;
    return (
      <div className="state state-loading" role="status" data-testid="upload-progress">
        <span className="spinner" aria-hidden="true" />
        Sending {state.fileName} to the control center: {size(state.sentBytes)} of {size(state.totalBytes)} ({percent}%)…
      </div>
    );
  }
  if (state.status === 'error') {
    return (
      <div data-testid="upload-refusal">
        <ErrorNotice title={failedTitle} error={state.error} />
      </div>
    );
  }
  return null;
}
