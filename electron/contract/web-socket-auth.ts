/**
 * How a web-mode client proves it holds the session's access token: as a WebSocket
 * subprotocol offered in the handshake, beside the API's own subprotocol, and nowhere
 * else (no cookie, no query string). A cookie is not bound to a port, so the browser
 * would hand it to every program listening on 127.0.0.1; a subprotocol goes only to
 * the socket the page itself opens. The server answers with API_SUBPROTOCOL, never
 * echoing the token.
 */
export const API_SUBPROTOCOL = 'sutazai.api.v1';
const TOKEN_SUBPROTOCOL_PREFIX = 'sutazai.token.';

/**
 * What a token may look like: a subprotocol must be an HTTP token, and the server makes
 * base64url tokens. Anything else is refused before it reaches a handshake.
 */
export const ACCESS_TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,256}$/;

export function isWellFormedAccessToken(value: string): boolean {
  return ACCESS_TOKEN_PATTERN.test(value);
}

/** The subprotocols a client offers: the API's, then its token. */
export function apiSocketProtocols(token: string): string[] {
  return [API_SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}${token}`];
}

/** The token offered in a `Sec-WebSocket-Protocol` header, or null when there is none. */
export function tokenFromProtocolHeader(header: string | undefined): string | null {
  if (!header) return null;
  for (const offered of header.split(',')) {
    const protocol = offered.trim();
    if (protocol.startsWith(TOKEN_SUBPROTOCOL_PREFIX)) return protocol.slice(TOKEN_SUBPROTOCOL_PREFIX.length);
  }
  return null;
}
