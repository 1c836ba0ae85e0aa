import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { FleetLogLine, LogSearch } from '../../../../electron/contract';
import { useApiQuery } from '../../api/queries';
import { useApiEvent } from '../../api/use-api-event';
import { formatDateTime } from '../../format/time';
import { downloadFile } from '../../ui/download-json-button';
import { ErrorNotice, LoadingState } from '../../ui/query-state';
import { appendLines, downloadText, filterStream, firstLineAt, lineText, type StreamFilter } from './log-lines';

/** Lines read before and after a time jumped to: the minute before it, then what follows. */
const BEFORE_JUMP_MS = 60_000;
const LINES_AROUND = 1_000;
const FOLLOW_BACKLOG = 200;

/**
 * An instance's logs: followed live (with pause), or from a time (a chart's point, an
 * event's second, or typed), searched by the backend (plain text or a regular expression,
 * linear-time so no pattern can stall it), filtered by stream, and downloadable.
 */
export function LogView({
  hostId,
  instance,
  atMs,
  onJump,
}: {
  hostId: number;
  instance: string;
  atMs: number | undefined;
  onJump: (atMs: number | undefined) => void;
}) {
  const [search, setSearch] = useState<LogSearch | undefined>(undefined);
  const [stream, setStream] = useState<StreamFilter>('all');
  const [shown, setShown] = useState<FleetLogLine[]>([]);
  const key = JSON.stringify({ hostId, instance, atMs, search });
  return (
    <div className="log-view" data-testid="log-view" data-mode={atMs === undefined ? 'follow' : 'at'}>
      <LogToolbar
        search={search}
        onSearch={setSearch}
        stream={stream}
        onStream={setStream}
        atMs={atMs}
        onJump={onJump}
        onDownload={() => downloadFile(downloadText(filterStream(shown, stream)), `${instance}-logs.txt`, 'text/plain')}
      />
      {atMs === undefined ? (
        <FollowedLines key={key} hostId={hostId} instance={instance} search={search} stream={stream} onShown={setShown} />
      ) : (
        <LinesAt key={key} hostId={hostId} instance={instance} atMs={atMs} search={search} stream={stream} onShown={setShown} />
      )}
    </div>
  );
}

function LogToolbar({
  search,
  onSearch,
  stream,
  onStream,
  atMs,
  onJump,
  onDownload,
}: {
  search: LogSearch | undefined;
  onSearch: (search: LogSearch | undefined) => void;
  stream: StreamFilter;
  onStream: (stream: StreamFilter) => void;
  atMs: number | undefined;
  onJump: (atMs: number | undefined) => void;
  onDownload: () => void;
}) {
  const [pattern, setPattern] = useState(search?.pattern ?? '');
  const [regex, setRegex] = useState(search?.regex ?? false);
  const [ignoreCase, setIgnoreCase] = useState(search?.ignoreCase ?? false);
  const [jumpText, setJumpText] = useState(atMs === undefined ? '' : localInputValue(atMs));
  const [jumpError, setJumpError] = useState<string | null>(null);

  function submitSearch(event: FormEvent) {
    event.preventDefault();
    onSearch(pattern === '' ? undefined : { pattern, regex, ignoreCase });
  }
  function submitJump(event: FormEvent) {
    event.preventDefault();
    const ms = new Date(jumpText).getTime();
    if (jumpText === '' || !Number.isFinite(ms)) return setJumpError('Pick a date and a time to jump to.');
    setJumpError(null);
    onJump(ms);
  }
  return (
    <div className="log-toolbar">
      <form className="log-search" role="search" onSubmit={submitSearch}>
        <input
          type="search"
          className="input"
          placeholder={regex ? 'Regular expression, e.g. error|timeout' : 'Text to find'}
          aria-label="Search the logs"
          data-testid="log-search"
          value={pattern}
          maxLength={1000}
          onChange={(e) => setPattern(e.target.value)}
        />
        <label className="check">
          <input type="checkbox" checked={regex} onChange={(e) => setRegex(e.target.checked)} data-testid="log-regex" /> Regular expression
        </label>
        <label className="check">
          <input type="checkbox" checked={ignoreCase} onChange={(e) => setIgnoreCase(e.target.checked)} /> Ignore case
        </label>
        <button type="submit" className="button">
          Search
        </button>
        {search ? (
          <button
            type="button"
            className="button"
            onClick={() => {
              setPattern('');
              onSearch(undefined);
            }}
          >
            Clear
          </button>
        ) : null}
      </form>
      <label className="log-stream">
        Stream{' '}
        <select
          className="input input-inline"
          value={stream}
          onChange={(e) => onStream(e.target.value as StreamFilter)}
          data-testid="log-stream"
        >
          <option value="all">stdout and stderr</option>
          <option value="stdout">stdout</option>
          <option value="stderr">stderr</option>
        </select>
      </label>
      <form className="log-jump" onSubmit={submitJump}>
        <input
          type="datetime-local"
          step={1}
          className="input input-inline"
          aria-label="Jump to a time"
          data-testid="log-jump-time"
          value={jumpText}
          onChange={(e) => setJumpText(e.target.value)}
        />
        <button type="submit" className="button">
          Jump
        </button>
        {atMs !== undefined ? (
          <button type="button" className="button" data-testid="log-follow-live" onClick={() => onJump(undefined)}>
            Follow live
          </button>
        ) : null}
      </form>
      <button type="button" className="button" onClick={onDownload} data-testid="log-download">
        Download
      </button>
      {jumpError ? (
        <p className="field-error" role="alert">
          {jumpError}
        </p>
      ) : null}
    </div>
  );
}

/** The value a datetime-local input shows for a time, in local time to the second. */
function localInputValue(ms: number): string {
  return formatDateTime(ms).replace(' ', 'T');
}

function FollowedLines({
  hostId,
  instance,
  search,
  stream,
  onShown,
}: {
  hostId: number;
  instance: string;
  search: LogSearch | undefined;
  stream: StreamFilter;
  onShown: (lines: FleetLogLine[]) => void;
}) {
  const [lines, setLines] = useState<FleetLogLine[]>([]);
  const [paused, setPaused] = useState(false);
  const [held, setHeld] = useState<FleetLogLine[]>([]);
  const [ended, setEnded] = useState<{ error: unknown } | null>(null);
  const [started, setStarted] = useState(false);
  const params = { hostId, instance, lines: FOLLOW_BACKLOG, ...(search ? { search } : {}) };
  const subscription = useApiEvent('fleet.logFollow', params, (payload) => {
    setStarted(true);
    if (payload.kind === 'ended') return setEnded({ error: payload.error });
    // The handler is an effect event: it sees the current `paused`.
    if (paused) setHeld((h) => appendLines(h, payload.lines));
    else setLines((l) => appendLines(l, payload.lines));
  });
  useEffect(() => onShown(lines), [lines, onShown]);
  function resume() {
    setLines((l) => appendLines(l, held));
    setHeld([]);
    setPaused(false);
  }
  return (
    <>
      <div className="log-follow-bar">
        <span className="status status-ok" data-testid="log-following" data-paused={paused}>
          {paused ? 'Paused' : 'Following'}
        </span>
        {paused ? (
          <button type="button" className="button" onClick={resume} data-testid="log-resume">
            Resume{held.length > 0 ? ` (${held.length} new line${held.length === 1 ? '' : 's'})` : ''}
          </button>
        ) : (
          <button type="button" className="button" onClick={() => setPaused(true)} data-testid="log-pause">
            Pause
          </button>
        )}
      </div>
      {subscription.error ? <ErrorNotice title="Could not follow the logs" error={subscription.error} /> : null}
      {ended?.error ? <ErrorNotice title="The logs stopped" error={ended.error} /> : null}
      {!started && !subscription.error ? <LoadingState label="Reading the logs…" /> : null}
      <LogLines lines={filterStream(lines, stream)} focusAtMs={undefined} followTail={!paused} />
    </>
  );
}

function LinesAt({
  hostId,
  instance,
  atMs,
  search,
  stream,
  onShown,
}: {
  hostId: number;
  instance: string;
  atMs: number;
  search: LogSearch | undefined;
  stream: StreamFilter;
  onShown: (lines: FleetLogLine[]) => void;
}) {
  const logs = useApiQuery('fleet.logs', {
    hostId,
    instance,
    lines: LINES_AROUND,
    sinceMs: Math.max(0, atMs - BEFORE_JUMP_MS),
    ...(search ? { search } : {}),
  });
  const lines = logs.data?.lines;
  useEffect(() => onShown(lines ?? []), [lines, onShown]);
  if (logs.isPending) return <LoadingState label="Reading the logs…" />;
  if (logs.isError) return <ErrorNotice title="Could not read the logs" error={logs.error} onRetry={() => void logs.refetch()} />;
  return (
    <>
      <p className="muted" data-testid="log-at" data-at-ms={atMs}>
        From a minute before {formatDateTime(atMs)}
        {logs.data.omitted > 0 ? `; ${logs.data.omitted} older matching lines left out` : ''}
        {logs.data.complete ? '' : '; older lines were out of the runtime’s reach'}.
      </p>
      <LogLines lines={filterStream(logs.data.lines, stream)} focusAtMs={atMs} followTail={false} />
    </>
  );
}

function LogLines({ lines, focusAtMs, followTail }: { lines: FleetLogLine[]; focusAtMs: number | undefined; followTail: boolean }) {
  const listRef = useRef<HTMLOListElement>(null);
  const scrolledTo = useRef<FleetLogLine | null>(null);
  const focusIndex = focusAtMs === undefined ? -1 : firstLineAt(lines, focusAtMs);
  useEffect(() => {
    const list = listRef.current;
    if (!list) return;
    const focused = focusIndex >= 0 ? lines[focusIndex] : undefined;
    if (focused) {
      // Once per marked line: the page's re-renders (its tables refresh every few seconds) must not pull the page back to it.
      if (focused === scrolledTo.current) return;
      scrolledTo.current = focused;
      list.children[focusIndex]?.scrollIntoView({ block: 'center' });
    } else if (followTail) list.scrollTop = list.scrollHeight;
  }, [lines, focusIndex, followTail]);
  if (lines.length === 0)
    return (
      <p className="muted" data-testid="log-empty">
        No lines.
      </p>
    );
  return (
    <ol className="log-lines" ref={listRef} data-testid="log-lines" data-count={lines.length}>
      {lines.map((line, index) => (
        <li
          key={index}
          className={`log-line log-${line.stream}${index === focusIndex ? ' log-line-focus' : ''}`}
          data-testid="log-line"
          data-at-ms={line.atMs}
          data-stream={line.stream}
          data-focus={index === focusIndex || undefined}
        >
          <time className="log-time">{formatDateTime(line.atMs).slice(11)}</time>
          <span className="log-text">{lineText(line)}</span>
        </li>
      ))}
    </ol>
  );
}
