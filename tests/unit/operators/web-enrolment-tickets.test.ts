// The tickets of web mode's forced two-factor enrolment (app/web-enrolment.ts): 256 random bits
// kept only as a hash, 5 minutes, one per operator, 5 wrong codes, at most 1000 held.
import { describe, expect, it } from 'vitest';
import { createWebEnrolments, WEB_ENROLMENT_MS, WEB_ENROLMENT_TRIES } from '../../../electron/backend/app/web-enrolment';

function enrolments() {
  let now = 1_000_000;
  const store = createWebEnrolments({ now: () => now });
  return { store, advance: (ms: number) => void (now += ms), now: () => now };
}

const of = (operatorId: number) => ({ operatorId, operatorName: `op-${operatorId}`, operatorUpdatedAt: 7 });

describe('web enrolment tickets', () => {
  it('are 256 random bits, live 5 minutes, and end after the last wrong code', () => {
    const { store, advance, now } = enrolments();
    const { ticket, expiresAt } = store.open(of(1));
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(expiresAt).toBe(now() + WEB_ENROLMENT_MS);
    expect(store.find(ticket)).toMatchObject({ operatorId: 1, begun: false });
    store.begun(ticket);
    expect(store.find(ticket)?.begun).toBe(true);
    const left = Array.from({ length: WEB_ENROLMENT_TRIES }, () => store.failed(ticket));
    expect(left).toEqual([4, 3, 2, 1, 0]);
    expect(store.find(ticket)).toBeUndefined();

    const second = store.open(of(2)).ticket;
    advance(WEB_ENROLMENT_MS - 1);
    expect(store.find(second)).toBeDefined();
    advance(1);
    expect(store.find(second)).toBeUndefined();
  });

  it('hold one per operator: a new sign-in ends the earlier ticket; endAllOf ends them on a change of the operator', () => {
    const { store } = enrolments();
    const first = store.open(of(1)).ticket;
    const other = store.open(of(2)).ticket;
    const again = store.open(of(1)).ticket;
    expect(store.find(first)).toBeUndefined();
    expect(store.find(again)).toBeDefined();
    store.endAllOf(1);
    expect(store.find(again)).toBeUndefined();
    expect(store.find(other)).toBeDefined();
    store.close(other);
    expect(store.find(other)).toBeUndefined();
  });

  it('hold at most 1000: the oldest goes first', () => {
    const { store } = enrolments();
    const tickets = Array.from({ length: 1001 }, (_, index) => store.open(of(index + 1)).ticket);
    expect(store.find(tickets[0]!)).toBeUndefined();
    expect(store.find(tickets[1]!)).toBeDefined();
    expect(store.find(tickets[1000]!)).toBeDefined();
  });
});
