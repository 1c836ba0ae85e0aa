import { useEffect, useState, useSyncExternalStore, type RefObject } from 'react';

/**
 * Panels this close below or above the window count as shown: they are drawn before they
 * scroll in, so a scrolling operator never meets a stale one.
 */
const SHOWN_MARGIN = '200px 0px';
const NONE: ReadonlySet<string> = new Set();

function subscribeVisibility(onChange: () => void): () => void {
  document.addEventListener('visibilitychange', onChange);
  return () => document.removeEventListener('visibilitychange', onChange);
}

/** Whether the page can be seen at all: false in a background tab or a minimised window. */
export function usePageShown(): boolean {
  return useSyncExternalStore(subscribeVisibility, () => document.visibilityState !== 'hidden');
}

/**
 * The panels of a grid (its `[data-metric-panel]` children) that are off screen, by id.
 * Live charts change every second; drawing a panel nobody can see is the page's main cost
 * with many panels (a host's 64 cores, its filesystems and GPUs), so these wait and are
 * drawn when they come into view. `layout` changes when the panels do (observe the new ones).
 */
export function usePanelsOffScreen(grid: RefObject<HTMLElement | null>, layout: string): ReadonlySet<string> {
  const [off, setOff] = useState(NONE);
  useEffect(() => {
    const element = grid.current;
    if (!element || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver(
      (entries) =>
        setOff((previous) => {
          const next = new Set(previous);
          for (const entry of entries) {
            const id = (entry.target as HTMLElement).dataset['metricPanel'];
            if (id === undefined) continue;
            if (entry.isIntersecting) next.delete(id);
            else next.add(id);
          }
          return next.size === previous.size && [...next].every((id) => previous.has(id)) ? previous : next;
        }),
      { rootMargin: SHOWN_MARGIN },
    );
    element.querySelectorAll('[data-metric-panel]').forEach((panel) => observer.observe(panel));
    return () => observer.disconnect();
  }, [grid, layout]);
  return off;
}
