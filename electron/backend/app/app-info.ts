import type { MethodResult } from '../../contract';

export type AppInfo = MethodResult<'app.info'>;
export type AppMode = AppInfo['mode'];

/** Set by the build from package.json; tests and tsx runs fall back to the dev marker. */
declare const __APP_VERSION__: string | undefined;

export function appVersion(): string {
  return typeof __APP_VERSION__ === 'string' ? __APP_VERSION__ : '0.0.0-dev';
}
