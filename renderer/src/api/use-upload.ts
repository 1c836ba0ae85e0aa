import { useCallback, useEffect, useRef, useState } from 'react';
import { useApiClient } from './api-context';
import { holdsLaunchToken, uploadFile, type UploadKind, type UploadReceipt } from './browser-files';

/** Where a page's upload stands: none, being sent (how much of how much), held by the backend, or refused. */
export type UploadState =
  | { status: 'idle' }
  | { status: 'sending'; fileName: string; sentBytes: number; totalBytes: number }
  | { status: 'held'; file: File; receipt: UploadReceipt }
  | { status: 'error'; error: unknown };

/**
 * Web mode's first step of using a file from this computer (a support bundle to analyze, a
 * configuration file to review, a release bundle to verify): the file is sent to the backend,
 * which holds it for this session under the id answered. Shared by the pages that take a
 * file in a browser, so each shows the same progress and refusals. A send that a newer one
 * replaced, or that ends after the page left, is dropped.
 */
export function useUpload(kind: UploadKind): {
  state: UploadState;
  send(file: File): Promise<UploadReceipt | null>;
  reset(): void;
} {
  const client = useApiClient();
  const [state, setState] = useState<UploadState>({ status: 'idle' });
  const sendId = useRef(0);
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  const send = useCallback(
    async (file: File) => {
      const id = ++sendId.current;
      const current = () => id === sendId.current && mounted.current;
      setState({ status: 'sending', fileName: file.name, sentBytes: 0, totalBytes: file.size });
      try {
        // Loopback web mode: the upload names this tab's operator by a permit from its own socket (its role is checked on arrival).
        const permit = holdsLaunchToken() ? (await client.call('uploads.permit', { kind })).permit : undefined;
        const receipt = await uploadFile(
          file,
          kind,
          (sentBytes) => {
            if (current()) setState({ status: 'sending', fileName: file.name, sentBytes, totalBytes: file.size });
          },
          permit,
        );
        if (!current()) return null;
        setState({ status: 'held', file, receipt });
        return receipt;
      } catch (error) {
        if (current()) setState({ status: 'error', error });
        return null;
      }
    },
    [client, kind],
  );
  const reset = useCallback(() => {
    sendId.current += 1;
    setState({ status: 'idle' });
  }, []);
  return {
    state,
    send,
    reset,
  };
}
