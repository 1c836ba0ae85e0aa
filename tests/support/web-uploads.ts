import fs from 'node:fs';
import http from 'node:http';
import type { ApiClient, BundleImportResult } from '../../electron/contract';

/** What POST /upload answers: the id the upload is held under for this session, and what was received. */
export interface UploadAnswer {
  uploadId: string;
  sha256: string;
  sizeBytes: number;
}

/** A loopback web-mode server's address and launch token, as the page sends them with an upload. */
export function loopbackUploader(url: string): { base: string; headers: Record<string, string> } {
  const { port, searchParams } = new URL(url);
  const base = `http://127.0.0.1:${port}`;
  return { base, headers: { 'X-SutazAI-Token': searchParams.get('token') ?? '', Origin: base } };
}

/**
 * The header loopback web mode takes an upload with, as the page sends it: a permit its own
 * signed-in socket (`api`) asked for just before (uploads.permit), naming its operator.
 */
export async function uploadPermitHeader(api: ApiClient, kind: 'support' | 'config' | 'bundle'): Promise<Record<string, string>> {
  return { 'X-SutazAI-Upload-Permit': (await api.call('uploads.permit', { kind })).permit };
}

/**
 * Sends `file` to POST /upload?kind=KIND as the page does, streamed from disk (never read
 * whole: a release bundle may be large); answers the status and the parsed body. `api`: the
 * socket whose operator sends it, in loopback web mode (its permit goes with the upload).
 */
export async function uploadFileOverWeb(
  target: { base: string; headers: Record<string, string> },
  file: string,
  kind: 'support' | 'config' | 'bundle',
  fileName = 'uploaded.bin',
  api?: ApiClient,
): Promise<{ status: number; body: UploadAnswer | { error: { code: string; message: string } } }> {
  const size = fs.statSync(file).size;
  const permit = api === undefined ? {} : await uploadPermitHeader(api, kind);
  return await new Promise((resolve, reject) => {
    const request = http.request(`${target.base}/upload?kind=${kind}`, {
      method: 'POST',
      headers: {
        ...target.headers,
        ...permit,
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(size),
        'X-File-Name': fileName,
      },
    });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
      response.on('error', reject);
    });
    request.on('error', reject);
    fs.createReadStream(file).pipe(request);
  });
}

/** Imports a release bundle into a web-mode server as its page does (web mode names no path): upload, then bundles.importUpload. */
export async function importBundleOverWeb(api: ApiClient, url: string, file: string, trustKey?: string): Promise<BundleImportResult> {
  const sent = await uploadFileOverWeb(loopbackUploader(url), file, 'bundle', 'release.sutazai-bundle', api);
  if (sent.status !== 200 || !('uploadId' in sent.body)) throw new Error(`the bundle upload was refused: ${JSON.stringify(sent.body)}`);
  return await api.call('bundles.importUpload', { uploadId: sent.body.uploadId, ...(trustKey === undefined ? {} : { trustKey }) });
}
