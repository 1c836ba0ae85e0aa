import { ApiError, type Transport } from '../../../electron/contract';
import { backendSocketUrl, connectWebSocket } from './transport-websocket';
import { forgetAccessToken, takeAccessToken } from './web-access-token';
import { isTeamWebMode, teamSignInRequired } from './web-team-session';

const HOW_TO_GET_IN =
  'Open the address that `npm run web` printed in its terminal (http://127.0.0.1:PORT/?token=…) in this tab. Each new tab needs it once; reloading keeps it.';

export function accessTokenMissing(): ApiError {
  return new ApiError('UNAUTHORIZED', 'This tab has no access token for the web-mode session.', HOW_TO_GET_IN);
}

export function accessTokenRefused(): ApiError {
  return new ApiError(
    'UNAUTHORIZED',
    'The web-mode server refused this tab’s access token: it makes a new token each time it starts.',
    'Open the address that the running `npm run web` printed last (http://127.0.0.1:PORT/?token=…).',
  );
}

/** The page's own server answered (it serves files without a token), so it is up. */
async function pageServerAnswers(): Promise<boolean> {
  try {
    const response = await fetch('/', { method: 'HEAD', cache: 'no-store' });
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * The web-mode pipe: this tab's token (from the printed address, then sessionStorage)
 * offered on the API socket. A socket refused while the page's server is up was
 * refused for its token: the tab forgets it and says how to get in.
 */
export async function connectWebMode(timeoutMs: number): Promise<Transport> {
  // A team's server takes no token: the browser's session cookie opens the socket, or it must sign in.
  if (isTeamWebMode())
    return connectWebSocket(backendSocketUrl(window.location), {
      token: null,
      timeoutMs,
      explainRefusal: async () => ((await pageServerAnswers()) ? teamSignInRequired() : null),
    });
  const token = takeAccessToken(window);
  if (token === null) throw accessTokenMissing();
  return connectWebSocket(backendSocketUrl(window.location), {
    token,
    timeoutMs,
    explainRefusal: async () => {
      if (!(await pageServerAnswers())) return null;
      forgetAccessToken(window);
      return accessTokenRefused();
    },
  });
}
