// The link's keepalive (fleet/link/host-link.ts): a health check only after keepaliveIntervalMs
// without a word from the runtime. A stream's messages are words: while they come, the link
// asks nothing (at a fleet's scale a check per host every few seconds was a gRPC call, a TLS
// record and an SSH packet each way for nothing); once they stop, the check comes and its
// failure takes the link down. The link runs for real here, its timers and loop; what stands
// in for the host is the opened link (an SSH session and runtime connection that record the
// health checks asked of them), since the point is what the link asks, not what answers.
import { afterEach, describe, expect, it } from 'vitest';
import type { SshSession } from '../../../electron/backend/hosts/ssh/ssh-session';
import type { RuntimeConnection } from '../../../electron/backend/fleet/runtime-connection';
import { createHandshakeSlots } from '../../../electron/backend/fleet/link/handshake-slots';
import { DEFAULT_LINK_TIMING, startHostLink, type HostLink } from '../../../electron/backend/fleet/link/host-link';
import type { LinkConsumer, LinkState } from '../../../electron/backend/fleet/link/link-types';
import { makeWaitFor } from '../../support/wait-for';

const waitFor = makeWaitFor({ timeoutMs: 30_000, pollMs: 10 });
const target = { installName: 'lab', hostId: 1, hostName: 'h1' };
let link: HostLink | null = null;

afterEach(async () => {
  await link?.stop(null);
  link = null;
});

describe('fleet link keepalive', () => {
  it('asks nothing while a stream keeps the runtime heard, and checks once it goes quiet: a failed check takes the link down', async () => {
    const events: string[] = [];
    let heard: () => void = () => {};
    let streaming = true;
    let messages = 0;
    const connection = {
      checkHealth: async () => {
        events.push('check');
        throw new Error('the runtime does not answer');
      },
      close: async () => {},
    } as unknown as RuntimeConnection;
    const session = { lost: null, close: () => {} } as unknown as SshSession;
    // A metric stream: a message every 20 ms (a sign of life, as grpc's stream reports each one) until told to stop.
    const stream: LinkConsumer = {
      name: 'metrics',
      run: (_target, _connection, signal) =>
        new Promise<void>((resolve) => {
          const timer = setInterval(() => {
            if (!streaming) return;
            messages += 1;
            heard();
          }, 20);
          signal.addEventListener('abort', () => (clearInterval(timer), resolve()), { once: true });
        }),
    };
    link = startHostLink({
      target,
      open: async (_signal, onHeard) => {
        heard = onHeard;
        onHeard();
        return { session, connection };
      },
      blockedBy: () => null,
      consumers: [stream],
      slots: createHandshakeSlots(1),
      timing: { ...DEFAULT_LINK_TIMING, keepaliveIntervalMs: 200, backoff: { initialMs: 60_000, maxMs: 60_000 } },
      now: Date.now,
      random: () => 0.5,
      onState: (state: LinkState) => events.push(state.state),
      logger: { info: () => {}, warn: () => {} },
    });

    // Ten keepalive intervals' worth of messages: the old keepalive checked every interval whatever came.
    await waitFor('ten keepalive intervals of messages, or a check', () => messages >= 100 || events.includes('check'));
    expect(events).toEqual(['connecting', 'online']);

    streaming = false;
    await waitFor('the link to go down', () => events.includes('offline'));
    expect(events).toEqual(['connecting', 'online', 'check', 'offline']);
    expect(link.state().reason?.message).toMatch(/does not answer/);
  });

  it('waits a full interval after an answered check, even over a connection that reports no activity of its own', async () => {
    const checks: number[] = [];
    // Answers every check, and (as a connection opened without onActivity) never says the runtime was heard.
    const connection = {
      checkHealth: async () => {
        checks.push(Date.now());
        return 'SERVING';
      },
      close: async () => {},
    } as unknown as RuntimeConnection;
    const session = { lost: null, close: () => {} } as unknown as SshSession;
    link = startHostLink({
      target,
      // The opening handshake is heard (as fleet-links' open reports it); the checks after it are not.
      open: async (_signal, onHeard) => {
        onHeard();
        return { session, connection };
      },
      blockedBy: () => null,
      consumers: [],
      slots: createHandshakeSlots(1),
      timing: { ...DEFAULT_LINK_TIMING, keepaliveIntervalMs: 100, backoff: { initialMs: 60_000, maxMs: 60_000 } },
      now: Date.now,
      random: () => 0.5,
      onState: () => {},
      logger: { info: () => {}, warn: () => {} },
    });
    await waitFor('three checks', () => checks.length >= 3);
    // A lower bound only (a busy machine makes the gaps longer, never shorter): no check right after another.
    expect(checks[1]! - checks[0]!).toBeGreaterThanOrEqual(100);
    expect(checks[2]! - checks[1]!).toBeGreaterThanOrEqual(100);
  });
});
