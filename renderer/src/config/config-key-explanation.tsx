import type { ConfigExplanation, ConfigOrigin } from '../../../electron/contract';
import { describeConfigOrigin } from './describe-config-origin';
import { formatConfigValue } from './format-config-value';
import { DottedKey } from './dotted-key';

function Where({
  origin,
  editedName,
  onReveal,
}: {
  origin: ConfigOrigin;
  editedName: string;
  onReveal: (line: number, column: number) => void;
}) {
  const inEditor = origin.kind !== 'env' && origin.file === editedName && origin.line !== null;
  return (
    <>
      <strong>{origin.layer}</strong>{' '}
      {inEditor ? (
        <button type="button" className="link-button mono" onClick={() => onReveal(origin.line ?? 1, origin.column ?? 1)}>
          {describeConfigOrigin(origin)}
        </button>
      ) : (
        <span className="mono config-origin-file">{describeConfigOrigin(origin)}</span>
      )}
    </>
  );
}

/** One key's merged value, the layer that set it (file:line:column), and what it overrode below. */
export function ConfigKeyExplanation({
  explanation,
  editedName,
  onReveal,
}: {
  explanation: ConfigExplanation;
  editedName: string;
  onReveal: (line: number, column: number) => void;
}) {
  return (
    <div className="stack" data-testid="config-explanation" data-key={explanation.key}>
      {explanation.settings.map((setting) => (
        <div
          key={setting.key}
          className="config-setting"
          data-testid="config-setting"
          data-key={setting.key}
          data-layer={setting.setBy.layer}
          data-kind={setting.setBy.kind}
        >
          <p className="mono config-setting-key">
            <DottedKey path={setting.key} />
          </p>
          <p className="config-setting-value mono" data-testid="config-setting-value">
            {formatConfigValue(setting.value)}
          </p>
          <p className="config-setting-origin" data-testid="config-setting-origin">
            Set by <Where origin={setting.setBy} editedName={editedName} onReveal={onReveal} />
          </p>
          {setting.overridden.length > 0 ? (
            <ul className="config-overridden" aria-label="Values it overrides">
              {setting.overridden.map((overridden, index) => (
                <li key={index} data-testid="config-overridden" data-layer={overridden.setBy.layer}>
                  overrides <span className="mono">{formatConfigValue(overridden.value)}</span> from{' '}
                  <Where origin={overridden.setBy} editedName={editedName} onReveal={onReveal} />
                </li>
              ))}
            </ul>
          ) : (
            <p className="cell-sub">No layer below sets it.</p>
          )}
        </div>
      ))}
    </div>
  );
}
