import type { ConfigOrigin } from '../../../electron/contract';

/** `install.yaml:6:28`, or `environment variable NAME`; as the backend and the CLI write it. */
export function describeConfigOrigin(origin: ConfigOrigin): string {
  if (origin.kind === 'env') return `environment variable ${origin.file}`;
  if (origin.line === null) return origin.file;
  return `${origin.file}:${origin.line}:${origin.column ?? 1}`;
}

/** "line 4, column 24" for a text the operator is editing. */
export function describeTextPlace(origin: Pick<ConfigOrigin, 'line' | 'column'>): string {
  if (origin.line === null) return 'the whole text';
  return origin.column === null ? `line ${origin.line}` : `line ${origin.line}, column ${origin.column}`;
}
