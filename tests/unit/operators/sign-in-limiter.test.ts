// The sign-in rate limit over a real SQLite store (migration 022), with an injected clock:
// a name gets a few tries, an address more, each try past them doubles the wait, a throttled
// try is refused before anything is looked at, and a success clears the name's count.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../../electron/contract';
import {
  addressKeyOf,
  createSignInLimiter,
  type LimiterPolicy,
  type SignInLimiter,
} from '../../../electron/backend/operators/sign-in-limiter';
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

  it('counts an IPv6 address by its /64 and an IPv4-mapped one as its IPv4 address, so a new address per try is the same source', () => {
    // One machine given a /64 can try from a fresh address every time: five names, five addresses, one source.
    for (let i = 1; i <= 5; i += 1) limiter.begin({ name: `spray-${i}`, address: `2001:db8:7:1::${i}` });
    const refusal = throttled(() => limiter.begin({ name: 'spray-6', address: '2001:0db8:0007:0001:ffff:ffff:ffff:fffe' }));
    expect(refusal.code).toBe('SIGN_IN_THROTTLED');
    // The next /64 is another source.
    limiter.begin({ name: 'spray-7', address: '2001:db8:7:2::1' });
    // An IPv4 client reaching a dual-stack socket is the same source as over IPv4.
    for (let i = 1; i <= 5; i += 1) limiter.begin({ name: `mapped-${i}`, address: i % 2 === 1 ? '::ffff:198.18.0.20' : '198.18.0.20' });
    expect(throttled(() => limiter.begin({ name: 'mapped-6', address: '198.18.0.20' })).code).toBe('SIGN_IN_THROTTLED');
    expect(['fe80::1%eth0', '2001:DB8::1', '1:2:3:4:5:6:7:8', 'local'].map(addressKeyOf)).toEqual([
      'fe80:0:0:0::/64',
      '2001:db8:0:0::/64',
      '1:2:3:4::/64',
      'local',
    ]);
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

  it('is one count for every process sharing the store, and survives a restart', () => {
    // Another connection to the same data directory, as another process (the CLI, the desktop app) opens it.
    const otherStore = openStore({ dataDir: dir.path });
    try {
      const other = createSignInLimiter({ db: otherStore.db, now: () => clock, policy: POLICY });
      const attempt = { name: 'dave', address: 'local' };
      limiter.begin(attempt);
      other.begin(attempt);
      limiter.begin(attempt);
      expect(throttled(() => other.begin(attempt)).code).toBe('SIGN_IN_THROTTLED');
    } finally {
      otherStore.close();
    }
    // A restart (the store closed and opened again) keeps the wait.
    store.close();
    store = openStore({ dataDir: dir.path });
    limiter = createSignInLimiter({ db: store.db, now: () => clock, policy: POLICY });
    expect(throttled(() => limiter.begin({ name: 'dave', address: '198.18.0.30' })).code).toBe('SIGN_IN_THROTTLED');
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
