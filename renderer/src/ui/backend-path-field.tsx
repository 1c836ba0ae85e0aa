import { useId, type ReactNode } from 'react';
import { FieldWithAction } from './field-with-action';

/**
 * A path on the machine the backend runs on, typed by the operator, with the button that acts
 * on it beside the input (bundle import, support bundles, configuration export and import). The backend checks the path; this
 * only keeps the field alike everywhere: monospace, no spell-check, no autofill.
 */
export function BackendPathField(props: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  placeholder: string;
  testId?: string;
  /** The submit button (or buttons) beside the input; none where the form's own buttons are below. */
  children?: ReactNode;
  hint: ReactNode;
}) {
  const id = useId();
  const input = (
    <input
      id={id}
      className="input mono"
      value={props.value}
      onChange={(event) => props.onChange(event.target.value)}
      placeholder={props.placeholder}
      autoComplete="off"
      spellCheck={false}
      data-testid={props.testId}
    />
  );
  return (
    <FieldWithAction inputId={id} label={props.label} input={input} hint={props.hint}>
      {props.children}
    </FieldWithAction>
  );
}
