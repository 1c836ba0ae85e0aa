import { ApiError, type ApiErrorBody } from '../../../electron/contract';
import { currentAccessToken } from './web-access-token';

/**
 * Files between the page and the backend when the page runs in a browser (web mode), where
 * no path on the backend's machine may be named (PAGE_PATH_METHODS): the backend offers a
 * file once at a same-origin URL, and takes an upload, each for this session only. A team's
 * browser is known by its session cookie, sent by itself; loopback mode's tab by its launch
 * token, sent in a header (never in an address, where history and logs would keep it).
 */

/** Loopback web mode: the page holds the launch token (a team's browser has its session cookie instead). */
export function holdsLaunchToken(): boolean {
  return currentAccessToken(window) !== null;
}

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

/** What an upload is for: each kind has its own size limit on the backend and its own methods to use it. */
export type UploadKind = 'support' | 'config' | 'bundle';

/** What the backend answers an upload: the id it holds it under for this session, and what it received. */
export interface UploadReceipt {
  uploadId: string;
  sha256: string;
  sizeBytes: number;
}

/**
 * Sends a file from this computer for the backend to hold for this session. The browser
 * streams it from the disk (a release bundle may be GiBs; it is never read into the page);
 * XMLHttpRequest, not fetch, because only it reports how much has been sent.
 */
export function uploadFile(
  file: File,
  kind: UploadKind,
  onProgress?: (sentBytes: number) => void,
  permit?: string,
): Promise<UploadReceipt> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', `/upload?kind=${kind}`);
    request.withCredentials = true;
    for (const [name, value] of Object.entries({
      ...sessionHeaders(),
      // Loopback web mode: which signed-in tab sends it (uploads.permit), as the token alone does not say.
      ...(permit === undefined ? {} : { 'X-SutazAI-Upload-Permit': permit }),
      'Content-Type': 'application/octet-stream',
      'X-File-Name': file.name.replace(/[^\x20-\x7e]/g, '_'),
    })) {
      request.setRequestHeader(name, value);
    }
    request.upload.onprogress = (event) => onProgress?.(event.loaded);
    request.onerror = () =>
      reject(
        new ApiError(
          'UPLOAD_FAILED',
          'The file could not be sent: the connection to the control center failed.',
          'Check the connection, then upload again.',
        ),
      );
    request.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(request.responseText);
      } catch {
        // Not JSON: answered below by its status.
      }
      if (request.status === 200 && body !== null && typeof (body as UploadReceipt).uploadId === 'string') {
        resolve(body as UploadReceipt);
        return;
      }
      const error = (body as { error?: ApiErrorBody } | null)?.error;
      reject(
        error
          ? ApiError.fromBody(error)
          : new ApiError('INTERNAL', `The upload failed (HTTP ${request.status}).`, 'Try again; reload the page if it keeps failing.'),
      );
    };
    request.send(file);
  });
}
