import type { ReactNode } from 'react';

/** A labelled control of a page's toolbar (a filter, an order): the label's words, then the control. */
export function ToolbarField({ label, children }: { label: string; children: ReactNode }) {
  return (
    <label className="toolbar-field">
      <span>{label}</span>
      {children}
    </label>
  );
}

export interface Choice<T extends string> {
  value: T;
  label: string;
}

/** A toolbar's drop-down: `choices` in order, `value` among them. */
export function ToolbarSelect<T extends string>({
  label,
  value,
  choices,
  onChange,
  testId,
}: {
  label: string;
  value: T;
  choices: ReadonlyArray<Choice<T>>;
  onChange: (value: T) => void;
  testId: string;
}) {
  return (
    <ToolbarField label={label}>
      <select className="input input-inline" value={value} onChange={(event) => onChange(event.target.value as T)} data-testid={testId}>
        {choices.map((choice) => (
          <option key={choice.value} value={choice.value}>
            {choice.label}
          </option>
        ))}
      </select>
    </ToolbarField>
  );
}

/** A toolbar's search box: filters as it is typed (the page debounces what it asks the backend). */
export function ToolbarSearch({
  label,
  value,
  placeholder,
  maxLength = 256,
  onChange,
  testId,
}: {
  label: string;
  value: string;
  placeholder: string;
  maxLength?: number;
  onChange: (value: string) => void;
  testId: string;
}) {
  return (
    <ToolbarField label={label}>
      <input
        className="input input-inline"
        type="search"
        value={value}
        placeholder={placeholder}
        maxLength={maxLength}
        onChange={(event) => onChange(event.target.value)}
        data-testid={testId}
      />
    </ToolbarField>
  );
}
