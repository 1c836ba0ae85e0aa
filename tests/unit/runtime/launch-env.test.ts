import { describe, expect, it } from 'vitest';
import { dropDaemonOnlyEnv, RUNTIME_LAUNCH_ENV } from '../../../agents-runtime/src/wire/launch-env';

describe('the launchers’ malloc settings are for the daemon alone', () => {
  it('drops each launch setting holding the launcher’s value, so the programs keep glibc’s defaults', () => {
    const env: NodeJS.ProcessEnv = { ...RUNTIME_LAUNCH_ENV, PATH: '/usr/bin', HOME: '/root' };
    expect(Object.keys(RUNTIME_LAUNCH_ENV)).toEqual(['MALLOC_ARENA_MAX', 'GLIBC_TUNABLES']);
    dropDaemonOnlyEnv(env);
    expect(env).toEqual({ PATH: '/usr/bin', HOME: '/root' });
  });

  it('keeps a value an operator set differently', () => {
    const env: NodeJS.ProcessEnv = { MALLOC_ARENA_MAX: '8', GLIBC_TUNABLES: 'glibc.malloc.tcache_count=0' };
    dropDaemonOnlyEnv(env);
    expect(env).toEqual({ MALLOC_ARENA_MAX: '8', GLIBC_TUNABLES: 'glibc.malloc.tcache_count=0' });
  });
});
