// The sign-in rate limit over a real SQLite store (migration 022), with an injected clock:
// a name gets a few tries, an address more, each try past them doubles the wait, a throttled
// try is refused before anything is looked at, and a success clears the name's count.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../../electron/contract';
import { createSignInLimiter, type LimiterPolicy, type SignInLimiter } from '../../../electron/backend/operators/sign-in-limiter';
import { openStore, type Store } from '../../../electron/backend/store/open-store';
import { makeTempDir } from '../../support/temp-dir';

const POLICY: LimiterPolicy = {
  operatorAllowance: 3,
  addressAllowance: 5,
  firstWaitMs: 30_000,
  maxWaitMs: 120_000,
  forgetAfterMs: 3_600_000,
};

let dir: ReturnType<typeof makeTempDir>;
let store: Store;
let clock: number;
let limiter: SignInLimiter;

beforeEach(() => {
  dir = makeTempDir('sutazai-limiter-');
  store = openStore({ dataDir: dir.path });
  clock = Date.UTC(2026, 11, 6, 4, 0, 0);
  limiter = createSignInLimiter({ db: store.db, now: () => clock, policy: POLICY });
});

afterEach(() => {
  store.close();
  dir.remove();
});

function throttled(fn: () => void): ApiError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected SIGN_IN_THROTTLED');
}

describe('sign-in limiter', () => {
  it('lets a name try its allowance, then makes it wait, doubling the wait per further failure up to the cap', () => {
    const attempt = { name: 'Alice', address: '198.18.0.7' };
    for (let i = 0; i < 3; i += 1) limiter.begin(attempt);
    const first = throttled(() => limiter.begin(attempt));
    expect(first.code).toBe('SIGN_IN_THROTTLED');
    expect(first.message).toContain('30 seconds');
    expect(first.remedy).toContain('Wait 30 seconds');
    // The same name in another case, from another address, is the same name.
    expect(throttled(() => limiter.begin({ name: ' alice', address: '198.18.0.8' })).code).toBe('SIGN_IN_THROTTLED');
    clock += 29_999;
    expect(throttled(() => limiter.begin(attempt)).message).toContain('1 seconds');
    clock += 1;
    limiter.begin(attempt); // the 4th try: allowed, and it doubles the wait
    expect(throttled(() => limiter.begin(attempt)).message).toContain('60 seconds');
    clock += 60_000;
    limiter.begin(attempt);
    clock += 120_000;
    limiter.begin(attempt);
    // Capped at maxWaitMs (2 minutes) however many more.
    expect(throttled(() => limiter.begin(attempt)).message).toContain('2 minutes');
  });

  it('does not tell a known name from an unknown one, nor a right password from a wrong one, while throttled', () => {
    // The limiter never sees the password: a throttled try is refused before it is looked at.
    for (let i = 0; i < 3; i += 1) limiter.begin({ name: 'nobody-by-this-name', address: 'a' });
    expect(throttled(() => limiter.begin({ name: 'nobody-by-this-name', address: 'a' })).code).toBe('SIGN_IN_THROTTLED');
  });

  it('counts an address across names, with its larger allowance', () => {
    for (let i = 0; i < 5; i += 1) limiter.begin({ name: `guess-${i}`, address: '198.18.0.9' });
    const refusal = throttled(() => limiter.begin({ name: 'someone-new', address: '198.18.0.9' }));
    expect(refusal.code).toBe('SIGN_IN_THROTTLED');
    // Another address is not held up by it.
    limiter.begin({ name: 'someone-new', address: '198.18.0.10' });
  });

  it('forgets the name after a success and takes the try back from the address', () => {
    const attempt = { name: 'bob', address: 'local' };
    limiter.begin(attempt);
    limiter.begin(attempt);
    limiter.begin(attempt);
    limiter.succeeded(attempt);
    // The name starts again from nothing: three more tries before a wait.
    clock += 30_000;
    for (let i = 0; i < 3; i += 1) limiter.begin(attempt);
    expect(throttled(() => limiter.begin(attempt)).code).toBe('SIGN_IN_THROTTLED');
  });

  it('a refunded try (password right, a code to follow) does not count', () => {
    const attempt = { name: 'carol', address: 'local' };
    for (let i = 0; i < 10; i += 1) {
      limiter.begin(attempt);
      limiter.refund(attempt);
    }
    limiter.begin(attempt);
    limiter.begin(attempt);
    limiter.begin(attempt);
    expect(throttled(() => limiter.begin(attempt)).code).toBe('SIGN_IN_THROTTLED');
  });

  it('is one count for every process sharing the store', () => {
    const other = createSignInLimiter({ db: store.db, now: () => clock, policy: POLICY });
    const attempt = { name: 'dave', address: 'local' };
    limiter.begin(attempt);
    other.begin(attempt);
    limiter.begin(attempt);
    expect(throttled(() => other.begin(attempt)).code).toBe('SIGN_IN_THROTTLED');
  });

  it('forgets a name whose last failure is older than forgetAfterMs', () => {
    const attempt = { name: 'erin', address: 'local' };
    limiter.begin(attempt);
    limiter.begin(attempt);
    clock += POLICY.forgetAfterMs;
    limiter.begin(attempt);
    limiter.begin(attempt);
    limiter.begin(attempt);
    expect(throttled(() => limiter.begin(attempt)).code).toBe('SIGN_IN_THROTTLED');
  });
});
