import { useId, type ReactNode } from 'react';
import { FieldWithAction } from './field-with-action';

/**
 * A file on this computer, chosen in the browser (web mode), with the button that sends it
 * beside the input: the counterpart of BackendPathField, where no path on the backend's
 * machine may be named (bundle import, configuration import, support analysis).
 */
export function BrowserFileField(props: {
  label: string;
  /** The file types offered first in the chooser, e.g. ".tar". */
  accept: string;
  onChange: (file: File | null) => void;
  testId?: string;
  /** The submit button (or buttons) beside the input. */
  children?: ReactNode;
  hint: ReactNode;
}) {
  const id = useId();
  const input = (
    <input
      id={id}
      type="file"
      accept={props.accept}
      className="input"
      onChange={(event) => props.onChange(event.target.files?.[0] ?? null)}
      data-testid={props.testId}
    />
  );
  return (
    <FieldWithAction inputId={id} label={props.label} input={input} hint={props.hint}>
      {props.children}
    </FieldWithAction>
  );
}
