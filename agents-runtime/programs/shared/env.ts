/** Reading the programs' settings from the environment, refusing nonsense at start. */

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** An integer environment variable within [min, max], or the fallback when unset or empty. */
export function intEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} must be an integer from ${min} to ${max}`);
  }
  return value;
}

export function portEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  return intEnv(env, name, fallback, 1, 65_535);
}

/** "host:port" with a port in range; the host as given (the programs use loopback). */
export function addressEnv(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const raw = (env[name] ?? '').trim() || fallback;
  const match = /^(.+):(\d{1,5})$/.exec(raw);
  const port = Number(match?.[2]);
  if (match === null || port < 1 || port > 65_535)
    throw new ConfigError(`${name}=${JSON.stringify(raw)} must be host:port, e.g. 127.0.0.1:7700`);
  return raw;
}
