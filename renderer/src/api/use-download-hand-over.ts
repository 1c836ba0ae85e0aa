import { useState } from 'react';
import { saveOffered } from './browser-files';

/** Where the browser's part of a download stands: the file offered, being fetched and saved, saved, or failed. */
export type HandOver = { status: 'idle' | 'pending' | 'done' } | { status: 'error'; error: unknown };

/**
 * Web mode's second step of a download: the backend made the file and offered it once
 * (a `{ url, fileName }` answer, e.g. support.download, configBundles.exportDownload); this
 * fetches it and hands it to the browser to save, with its state for the form to show.
 */
export function useDownloadHandOver(): {
  handOver: HandOver;
  reset(): void;
  take(offered: { url: string; fileName: string } | undefined): Promise<void>;
} {
  const [handOver, setHandOver] = useState<HandOver>({ status: 'idle' });
  return {
    handOver,
    reset: () => setHandOver({ status: 'idle' }),
    async take(offered) {
      if (!offered) return;
      setHandOver({ status: 'pending' });
      try {
        await saveOffered(offered.url, offered.fileName);
        setHandOver({ status: 'done' });
      } catch (error) {
        setHandOver({ status: 'error', error });
      }
    },
  };
}
