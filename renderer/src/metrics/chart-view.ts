import { useState } from 'react';
import { useSessionState } from '../ui/use-session-state';
import { chartRange, type ChartRangeId } from './chart-rows';

/** How far either side of a moment the charts centred on it reach: ten minutes, 600 one-second points. */
export const AROUND_MS = 5 * 60_000;

/**
 * What a page's charts show: a range (live 5 min, 1 h, 24 h, 7 d, kept for the tab's
 * session), or the minutes around a moment the page was opened at (`?at=`: an event's
 * second, a chart's point), and where that moment is marked.
 */
export interface ChartView {
  rangeId: ChartRangeId;
  /** The moment the charts are centred on, or null when they show `rangeId`. */
  aroundMs: number | null;
  /** The page's moment (the logs' time), marked on every chart whose span holds it. */
  markMs: number | null;
  /** Picks a range, leaving the moment. */
  pick: (id: ChartRangeId) => void;
  /** Centres on the page's moment again (only when there is one). */
  centre: (() => void) | null;
  /** The live range: what an operator returns to after looking at a moment. */
  backToLive: () => void;
}

/**
 * A page's chart view. Opened at a moment, the charts are centred on it until the operator
 * picks a range; a new moment later (a clicked point, a jump in the logs) keeps whichever
 * they chose, so clicking a live chart does not pull it off live.
 */
export function useChartView(storageKey: string, atMs: number | undefined): ChartView {
  const [rangeId, setRangeId] = useSessionState<ChartRangeId>(storageKey, '5m', (s) => (typeof s === 'string' ? chartRange(s).id : null));
  const [centred, setCentred] = useState(atMs !== undefined);
  // The moment left (the logs follow live again): a later one, a clicked point, leaves the range as it is.
  if (centred && atMs === undefined) setCentred(false);
  return {
    rangeId,
    aroundMs: centred && atMs !== undefined ? atMs : null,
    markMs: atMs ?? null,
    pick: (id) => {
      setCentred(false);
      setRangeId(id);
    },
    centre: atMs === undefined ? null : () => setCentred(true),
    backToLive: () => {
      setCentred(false);
      setRangeId('5m');
    },
  };
}
