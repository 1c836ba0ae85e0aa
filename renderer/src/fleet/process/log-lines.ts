import { visibleText, type FleetLogLine } from '../../../../electron/contract';
import { formatDateTime } from '../../format/time';

export type StreamFilter = 'all' | 'stdout' | 'stderr';

/** Lines kept on the page at most; older ones leave as new ones come (the download holds what is shown). */
export const MAX_SHOWN_LINES = 5_000;

/** The page's lines after more arrived: in time order, the oldest dropped past the limit. */
export function appendLines(current: readonly FleetLogLine[], more: readonly FleetLogLine[]): FleetLogLine[] {
  const all = [...current, ...more];
  return all.length > MAX_SHOWN_LINES ? all.slice(all.length - MAX_SHOWN_LINES) : all;
}

export function filterStream(lines: readonly FleetLogLine[], stream: StreamFilter): FleetLogLine[] {
  return stream === 'all' ? [...lines] : lines.filter((l) => l.stream === stream);
}

/** The index of the first line written at or after `atMs` (the line a jump lands on); -1 when none is. */
export function firstLineAt(lines: readonly FleetLogLine[], atMs: number): number {
  return lines.findIndex((l) => l.atMs >= atMs);
}

/**
 * One line as the page and the download show it: its time, stream and text with every
 * control and bidi character written as a visible escape (log text is never markup and
 * never steers a terminal it is pasted into), and the cut part of an overlong line counted.
 */
export function lineText(line: FleetLogLine): string {
  const cut = line.cutChars > 0 ? ` … (${line.cutChars.toLocaleString('en')} more characters cut)` : '';
  return `${visibleText(line.text)}${cut}`;
}

export function downloadText(lines: readonly FleetLogLine[]): string {
  return lines.map((l) => `${formatDateTime(l.atMs)} ${l.instance} ${l.stream} ${lineText(l)}`).join('\n') + '\n';
}
