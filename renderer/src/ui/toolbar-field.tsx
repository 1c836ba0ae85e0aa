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
