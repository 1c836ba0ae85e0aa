import type { ReactNode } from 'react';

/**
 * A labelled input with the button that acts on it beside it (or none, where the form's own
 * buttons are below) and a hint under it: the frame BackendPathField and BrowserFileField
 * share, so a path and a file chooser look alike wherever a page takes a file.
 */
export function FieldWithAction(props: { inputId: string; label: string; input: ReactNode; children?: ReactNode; hint: ReactNode }) {
  return (
    <div className="field">
      <label className="field-label" htmlFor={props.inputId}>
        {props.label}
      </label>
      {props.children ? (
        <div className="input-row">
          {props.input}
          {props.children}
        </div>
      ) : (
        props.input
      )}
      <p className="field-hint">{props.hint}</p>
    </div>
  );
}
