// Web mode for a team's Host and Origin checks (DNS-rebinding and cross-site protection) and
// its cookie's reading, as the web server applies them to every request and socket.
import { describe, expect, it } from 'vitest';
import { SESSION_COOKIE, isConfiguredHost, isConfiguredOrigin, sessionCookieOf } from '../../../electron/backend/server/web-team';

const NAMES = ['control.example', '2001:db8::7'];

describe('web mode for a team: Host and Origin', () => {
  it('answers its names on its port, and nothing else', () => {
    expect(isConfiguredHost('control.example:8443', NAMES, 8443)).toBe(true);
    expect(isConfiguredHost('CONTROL.Example:8443', NAMES, 8443)).toBe(true);
    expect(isConfiguredHost('[2001:db8::7]:8443', NAMES, 8443)).toBe(true);
    expect(isConfiguredHost('control.example', NAMES, 8443)).toBe(false);
    expect(isConfiguredHost('control.example:443', NAMES, 8443)).toBe(false);
    expect(isConfiguredHost('evil.example:8443', NAMES, 8443)).toBe(false);
    expect(isConfiguredHost(undefined, NAMES, 8443)).toBe(false);
    expect(isConfiguredOrigin('https://control.example:8443', NAMES, 8443)).toBe(true);
    expect(isConfiguredOrigin('https://[2001:db8::7]:8443', NAMES, 8443)).toBe(true);
    expect(isConfiguredOrigin('https://control.example', NAMES, 8443)).toBe(false);
    expect(isConfiguredOrigin('http://control.example:8443', NAMES, 8443)).toBe(false);
    expect(isConfiguredOrigin('https://evil.example:8443', NAMES, 8443)).toBe(false);
    expect(isConfiguredOrigin('null', NAMES, 8443)).toBe(false);
  });

  it("on HTTPS's own port 443, takes the name without a port, as browsers send it", () => {
    expect(isConfiguredHost('control.example', NAMES, 443)).toBe(true);
    expect(isConfiguredHost('control.example:443', NAMES, 443)).toBe(true);
    expect(isConfiguredHost('[2001:db8::7]', NAMES, 443)).toBe(true);
    expect(isConfiguredHost('control.example:8443', NAMES, 443)).toBe(false);
    expect(isConfiguredHost('evil.example', NAMES, 443)).toBe(false);
    // Browsers serialize an origin without its scheme's default port.
    expect(isConfiguredOrigin('https://control.example', NAMES, 443)).toBe(true);
    expect(isConfiguredOrigin('https://[2001:db8::7]', NAMES, 443)).toBe(true);
    expect(isConfiguredOrigin('https://control.example:8443', NAMES, 443)).toBe(false);
    expect(isConfiguredOrigin('http://control.example', NAMES, 443)).toBe(false);
    expect(isConfiguredOrigin('https://evil.example', NAMES, 443)).toBe(false);
  });

  it('reads only its own cookie, by its exact name', () => {
    expect(sessionCookieOf(`theme=dark; ${SESSION_COOKIE}=abc=def; other=1`)).toBe('abc=def');
    expect(sessionCookieOf('sutazai-session=abc')).toBeNull();
    expect(sessionCookieOf(`${SESSION_COOKIE}=`)).toBeNull();
    expect(sessionCookieOf(undefined)).toBeNull();
  });
});
