import { CONFIG_ENVIRONMENTS, type ConfigEnvironment } from '../../../electron/contract';

/** Which environment profile sits under the install's values; "from the text" follows its `environment:` key. */
export function EnvironmentSelect({
  id,
  value,
  onChange,
}: {
  id?: string;
  value: ConfigEnvironment | null;
  onChange: (next: ConfigEnvironment | null) => void;
}) {
  return (
    <select
      id={id}
      className="input input-inline"
      value={value ?? ''}
      onChange={(event) => {
        const picked = CONFIG_ENVIRONMENTS.find((name) => name === event.target.value);
        onChange(picked ?? null);
      }}
      data-testid="config-environment"
    >
      <option value="">From the text (else production)</option>
      {CONFIG_ENVIRONMENTS.map((name) => (
        <option key={name} value={name}>
          {name}
        </option>
      ))}
    </select>
  );
}
