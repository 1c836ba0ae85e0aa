import { Fragment, useState } from 'react';
import { visibleText, type FleetEvent } from '../../../../electron/contract';

/** Past this many characters a message is cut, with a button for the rest (a runaway message must not bury the timeline). */
export const MESSAGE_PREVIEW_CHARS = 400;

/**
 * An event's words: its message, the error with its remedy, who acted, and a crash's last
 * log lines behind a disclosure. Everything a host sent is shown as text, never as markup,
 * with control and bidi characters written as visible escapes.
 */
export function EventText({ event }: { event: FleetEvent }) {
  const [whole, setWhole] = useState(false);
  const message = visibleText(event.message);
  const long = message.length > MESSAGE_PREVIEW_CHARS;
  return (
    <div className="event-text">
      <p className={whole ? 'event-message event-message-whole' : 'event-message'} data-testid="event-message">
        {!long ? message : whole ? <Runs text={message} /> : `${message.slice(0, MESSAGE_PREVIEW_CHARS)}…`}
      </p>
      {long ? (
        <button type="button" className="link-button" onClick={() => setWhole(!whole)} data-testid="event-message-toggle">
          {whole ? 'Show less' : `Show the whole message (${message.length.toLocaleString('en')} characters)`}
        </button>
      ) : null}
      {event.error !== null ? (
        <div className="event-error" data-testid="event-error">
          <span className="mono">{visibleText(event.error.code)}</span>: {visibleText(event.error.message)}
          <div className="event-remedy">What to do: {visibleText(event.error.remedy)}</div>
        </div>
      ) : null}
      {event.actor !== null ? (
        <div className="cell-sub" data-testid="event-actor">
          by <span className="mono">{visibleText(event.actor)}</span> ({actorWords(event.actor)})
        </div>
      ) : null}
      {event.lastLines.length > 0 ? (
        <details className="event-lines" data-testid="event-last-lines">
          <summary>
            {event.lastLines.length === 1 ? 'The last log line' : `The last ${event.lastLines.length} log lines`} before it ended
          </summary>
          <pre className="event-lines-text" data-testid="event-last-lines-text">
            {event.lastLines.map(visibleText).join('\n')}
          </pre>
        </details>
      ) : null}
    </div>
  );
}

/** The length of the runs a long message is laid out in. */
const RUN_CHARS = 200;

/**
 * A long text as runs with a break opportunity between them: Chromium takes tens of seconds
 * to wrap one 100 KB word (a message of one repeated character), and a fraction of a second
 * for the same characters in runs. The text itself is unchanged (copying it gives it whole).
 */
function Runs({ text }: { text: string }) {
  const runs = [];
  for (let at = 0; at < text.length; at += RUN_CHARS)
    runs.push(
      <Fragment key={at}>
        <span>{text.slice(at, at + RUN_CHARS)}</span>
        <wbr />
      </Fragment>,
    );
  return <>{runs}</>;
}

/** Who `desktop`, `web:…` and `cli:…` are, for a reader who has not met the words. */
function actorWords(actor: string): string {
  if (actor === 'desktop') return 'the desktop app';
  if (actor.startsWith('web:')) return 'a web-mode session';
  if (actor.startsWith('cli:')) return 'the command line, as that user';
  return 'operator';
}
