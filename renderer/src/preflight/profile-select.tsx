import { useId } from 'react';
import type { MethodResult } from '../../../electron/contract';

type Profiles = MethodResult<'preflight.profiles'>;

/** The profile to start with: the one asked for if it exists, else `agent`, else the first. */
export function defaultProfile(profiles: Profiles, preferred?: string | null): string {
  if (preferred && profiles.some((p) => p.name === preferred)) return preferred;
  return profiles.find((p) => p.name === 'agent')?.name ?? profiles[0]?.name ?? '';
}

/** Which requirement profile to judge hosts against, labelled where it stands; its description shows on hover. */
export function ProfileSelect({
  profiles,
  value,
  onChange,
  id,
  disabled,
}: {
  profiles: Profiles;
  value: string;
  onChange: (name: string) => void;
  id?: string;
  disabled?: boolean;
}) {
  const ownId = useId();
  const selectId = id ?? ownId;
  return (
    <span className="inline-field">
      <label className="inline-field-label" htmlFor={selectId}>
        Requirement profile
      </label>{' '}
      <select
        id={selectId}
        className="input input-inline"
        value={value}
        onChange={(event) => onChange(event.target.value)}
        disabled={disabled || profiles.length === 0}
        title={profiles.find((p) => p.name === value)?.description}
        data-testid="profile-select"
      >
        {profiles.length === 0 ? <option value="">No profiles</option> : null}
        {profiles.map((profile) => (
          <option key={profile.name} value={profile.name} title={profile.description}>
            {profile.name}
          </option>
        ))}
      </select>
    </span>
  );
}
