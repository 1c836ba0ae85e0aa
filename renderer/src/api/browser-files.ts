import { ApiError, type ApiErrorBody } from '../../../electron/contract';
import { currentAccessToken } from './web-access-token';

/**
 * Files between the page and the backend when the page runs in a browser (web mode), where
 * no path on the backend's machine may be named (PAGE_PATH_METHODS): the backend offers a
 * file once at a same-origin URL, and takes an upload, each for this session only. A team's
 * browser is known by its session cookie, sent by itself; loopback mode's tab by its launch
 * token, sent in a header (never in an address, where history and logs would keep it).
 */

/** The page runs in a browser (web mode), not in the desktop app's window. */
export function inBrowser(): boolean {
  return window.sutazaiShell?.kind !== 'electron';
}

function sessionHeaders(): Record<string, string> {
  const token = currentAccessToken(window);
  return token === null ? {} : { 'X-SutazAI-Token': token };
}

async function refusal(response: Response, what: string): Promise<ApiError> {
  const body = (await response.json().catch(() => null)) as { error?: ApiErrorBody } | null;
  const error = body?.error;
  return error
    ? ApiError.fromBody(error)
    : new ApiError('INTERNAL', `The ${what} failed (HTTP ${response.status}).`, 'Try again; reload the page if it keeps failing.');
}

/** Fetches a file the backend offered this session (once) and hands it to the browser to save as `fileName`. */
export async function saveOffered(url: string, fileName: string): Promise<void> {
  const response = await fetch(url, { headers: sessionHeaders(), credentials: 'same-origin', cache: 'no-store' });
  if (!response.ok) throw await refusal(response, 'download');
  const blob = await response.blob();
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  // After the click has started the save: the object URL is only the hand-over.
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}

/** Sends a file from this computer for the backend to hold for this session; answers its id. */
export async function uploadFile(file: File): Promise<string> {
  const response = await fetch('/upload', {
    method: 'POST',
    body: file,
    headers: { ...sessionHeaders(), 'Content-Type': 'application/octet-stream', 'X-File-Name': file.name.replace(/[^\x20-\x7e]/g, '_') },
    credentials: 'same-origin',
  });
  if (!response.ok) throw await refusal(response, 'upload');
  const { uploadId } = (await response.json()) as { uploadId: string };
  return uploadId;
}
