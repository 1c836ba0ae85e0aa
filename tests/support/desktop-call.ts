import type { ServerMessage } from '../../electron/contract';
import { createPipeSession, desktopPipeGrants, type Dispatcher } from '../../electron/backend/server/dispatcher';
import { makeWaitFor } from './wait-for';

const waitFor = makeWaitFor({ timeoutMs: 10_000, pollMs: 20 });

/**
 * One call over a pipe with the desktop app's grants (its window sits at the backend's
 * machine, so it may name paths there and use its SSH agent), answered as the raw message:
 * the tests compare it with what a web page's pipe is answered.
 */
export async function desktopCall(dispatcher: Dispatcher, method: string, params: unknown): Promise<ServerMessage> {
  const answers: ServerMessage[] = [];
  const connection = dispatcher.connect(
    (text) => answers.push(JSON.parse(text) as ServerMessage),
    'port:test',
    desktopPipeGrants(createPipeSession()),
    'desktop',
  );
  try {
    connection.receive(JSON.stringify({ type: 'request', id: 1, method, params }));
    await waitFor(`the answer to ${method}`, () => answers.length > 0);
    return answers[0]!;
  } finally {
    connection.close();
  }
}
