import { useImperativeHandle, useRef, useState, type Ref } from 'react';
import { lineCount, offsetOfPosition } from './text-position';

/** Must match `.code-editor` line-height in styles.css: the error band is placed by it. */
const LINE_HEIGHT_PX = 20;
/** The editor grows with its text between these, then scrolls. */
const MIN_ROWS = 12;
const MAX_ROWS = 30;

export interface ConfigEditorHandle {
  /** Puts the cursor at a 1-based line and column and scrolls it into view. */
  reveal(line: number, column: number): void;
}

/**
 * A plain textarea for YAML with line numbers, and the line an error points at marked in
 * the gutter and behind the text. Lines do not wrap, so line N is always row N.
 */
export function ConfigEditor({
  id,
  value,
  onChange,
  errorLine,
  ref,
  testId,
  placeholder,
  describedBy,
}: {
  id: string;
  value: string;
  onChange: (text: string) => void;
  /** 1-based; null when the text has no error to mark. */
  errorLine: number | null;
  ref?: Ref<ConfigEditorHandle>;
  testId?: string;
  placeholder?: string;
  describedBy?: string;
}) {
  const textarea = useRef<HTMLTextAreaElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const lines = lineCount(value);

  useImperativeHandle(
    ref,
    () => ({
      reveal(line, column) {
        const element = textarea.current;
        if (!element) return;
        const offset = offsetOfPosition(element.value, line, column);
        element.focus();
        element.setSelectionRange(offset, offset);
        element.scrollTop = Math.max(0, (line - 3) * LINE_HEIGHT_PX);
      },
    }),
    [],
  );

  return (
    <div className="code-editor" data-error-line={errorLine ?? ''}>
      <div className="code-gutter" aria-hidden="true">
        <div className="code-gutter-lines" style={{ transform: `translateY(${-scrollTop}px)` }}>
          {Array.from({ length: lines }, (_, index) => (
            <div key={index} className={index + 1 === errorLine ? 'code-gutter-line code-gutter-error' : 'code-gutter-line'}>
              {index + 1}
            </div>
          ))}
        </div>
      </div>
      <div className="code-body">
        {errorLine !== null ? (
          <div
            className="code-error-band"
            aria-hidden="true"
            data-testid="config-error-band"
            style={{ transform: `translateY(${(errorLine - 1) * LINE_HEIGHT_PX - scrollTop}px)` }}
          />
        ) : null}
        <textarea
          id={id}
          ref={textarea}
          className="code-text"
          value={value}
          onChange={(event) => onChange(event.target.value)}
          onScroll={(event) => setScrollTop(event.currentTarget.scrollTop)}
          wrap="off"
          rows={Math.min(Math.max(lines + 1, MIN_ROWS), MAX_ROWS)}
          spellCheck={false}
          autoComplete="off"
          autoCapitalize="off"
          placeholder={placeholder}
          aria-invalid={errorLine !== null ? true : undefined}
          aria-describedby={describedBy}
          data-testid={testId}
        />
      </div>
    </div>
  );
}
