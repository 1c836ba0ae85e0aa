import { MAX_LOG_LINE_CHARS, type FleetLogLine } from '../../../contract';
import type { LogLine__Output } from '../../../../agents-runtime/src/wire';

/**
 * What of a log goes into one answer: each line cut at MAX_LOG_LINE_CHARS (a 1 MB line
 * stays one line, with what was cut counted), and the lines together kept under a share
 * of the pipe's one-message limit, so that no answer is refused as too large.
 */
export const MAX_ANSWER_CHARS = 640 * 1024;

const STREAMS: Record<string, FleetLogLine['stream']> = { LOG_STREAM_STDOUT: 'stdout', LOG_STREAM_STDERR: 'stderr' };

export function toFleetLine(line: LogLine__Output): FleetLogLine {
  const cut = Math.max(0, line.text.length - MAX_LOG_LINE_CHARS);
  return {
    atMs: Number(line.atMs),
    instance: line.instance,
    stream: STREAMS[line.stream] ?? 'unknown',
    // The whole line was searched; only what is shown is cut.
    text: cut > 0 ? line.text.slice(0, MAX_LOG_LINE_CHARS) : line.text,
    cutChars: cut,
  };
}

// Control characters come out as six-character JSON escapes: counted so, a line of them still fits.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f]/;
const jsonChars = (line: FleetLogLine): number => line.text.length * (CONTROL.test(line.text) ? 6 : 1) + 96;

/**
 * The lines that fit one answer. `newest` (an answer about the last lines) drops the
 * oldest; `oldest` (a followed log, sent in parts) takes from the start and says how many.
 */
export function fitLines(
  lines: readonly FleetLogLine[],
  options: { keep: 'newest' | 'oldest' } = { keep: 'newest' },
): { lines: FleetLogLine[]; omitted: number; taken: number } {
  let total = 0;
  if (options.keep === 'oldest') {
    let taken = 0;
    while (taken < lines.length && (taken === 0 || total + jsonChars(lines[taken]!) <= MAX_ANSWER_CHARS))
      total += jsonChars(lines[taken++]!);
    return { lines: lines.slice(0, taken), omitted: 0, taken };
  }
  let first = lines.length;
  while (first > 0 && total + jsonChars(lines[first - 1]!) <= MAX_ANSWER_CHARS) total += jsonChars(lines[--first]!);
  return { lines: lines.slice(first), omitted: first, taken: lines.length - first };
}
