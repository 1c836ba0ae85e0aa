import { randomUUID } from 'node:crypto';
import {
  ApiError,
  ClientMessageSchema,
  LOCAL_FILE_METHODS,
  PAGE_PATH_METHODS,
  MAX_MESSAGE_BYTES,
  backendPathFieldsIn,
  backendPathMessage,
  backendPathRemedy,
  events,
  isEventName,
  isMethodName,
  methods,
  type ApiErrorBody,
  type EventName,
  type EventParams,
  type EventPayload,
  type MethodName,
  type MethodResult,
  type ParsedParams,
  type Role,
  type ServerMessage,
} from '../../contract';

/** Who is calling: what actions are recorded with (issue 12: "every operator action with who did it"). */
export interface Caller {
  /** The pipe's identity: `desktop` (the app's window), `web:<session>` (a browser in web mode), `cli:<OS user>` (a command). */
  readonly actor: string;
  /** Where the pipe comes from, as the transport names it (`port:1`, `ws:127.0.0.1:5000`, `cli`): the audit log's "from where". */
  readonly peer: string;
  /** The pipe's source address where it has one (a browser's IP in web mode): what sign-in failures are counted by besides the name. */
  readonly address?: string;
  /**
   * The operator signed in on this pipe (issue 14); absent while the control center
   * knows no operators, when every pipe acts as its one admin, as before operators.
   */
  readonly operator?: { readonly id: number; readonly name: string; readonly role: Role };
  /** The pipe's sign-in, for session.signIn and session.signOut: it lasts as long as the pipe (a shared one, as long as the backend). */
  readonly session?: PipeSession;
  /**
   * The pipe may name files on the backend's machine (the command line, the desktop app's
   * window: ConnectionGrants.localFiles or pagePaths); absent for a browser in web mode. For
   * paths inside a text a handler parses (a host list's keyPath), which the dispatcher cannot see.
   */
  readonly namesBackendFiles?: boolean;
}

/** Who an action is recorded as (events, acknowledgements): the signed-in operator with its pipe, else the pipe. */
export function whoActs(caller: Caller): string {
  return caller.operator ? `${caller.operator.name} (${caller.actor})` : caller.actor;
}

/** Which operator a pipe signed in as; kept by the dispatcher per connection. */
export interface PipeSession {
  signIn(operatorId: number): void;
  signOut(): void;
  readonly operatorId: number | undefined;
  /** A call was made on the pipe (not a recheck): a session with an idle limit moves it. */
  touch?(): void;
  /**
   * Set for a browser's sign-in in web mode for a team: the pipe never acts as the bootstrap's
   * admin, even were every operator removed, and signs in through the page's form, not session.signIn.
   */
  readonly webSessionId?: number;
  /**
   * A sign-in shared beyond this pipe (a browser's web session, across its tabs and reloads)
   * keeps its step-up there too: until when a code proved on it lets admin actions through
   * (step-up.ts), and where a new proof is recorded.
   */
  readonly stepUpUntil?: number | undefined;
  markStepUp?(until: number): void;
  /**
   * Set on the one-request pipe of web mode for a team's sign-in page (POST /session): where
   * two-factor sign-in is required of web mode (mfa.setWebRequired), an operator without it is
   * walked through enrolment there before any session (web-enrolment.ts). Loopback web mode and
   * the desktop app never set it: the setting does not reach them.
   */
  readonly teamSignInPage?: boolean;
}

export type MethodHandlers = {
  [M in MethodName]: (params: ParsedParams<M>, caller: Caller) => Promise<MethodResult<M>> | MethodResult<M>;
};

/** Starts a feed of one event for one subscriber; returns the function that stops it. */
export type EventSources = {
  [E in EventName]: (params: EventParams<E>, emit: (payload: EventPayload<E>) => void, caller: Caller) => () => void;
};

export interface DispatcherLogger {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface DispatcherOptions {
  handlers: MethodHandlers;
  sources: EventSources;
  logger: DispatcherLogger;
  maxMessageBytes?: number;
  /**
   * The operator a pipe signed in as, read again at each call (so a removed, disabled or
   * re-roled operator counts at once); undefined when it no longer acts as one.
   */
  signedIn?: (operatorId: number) => Caller['operator'];
  /**
   * Throws the ApiError that says why `caller` may no longer receive `event` (access/with-access.ts).
   * Asked again of every open subscription by recheckSubscriptions: a feed is checked when it
   * starts, and an operator disabled, removed or given another role since must not go on
   * receiving what the new role may not.
   */
  mayReceive?: (event: EventName, caller: Caller, params: unknown) => void;
  /**
   * Told of a call the dispatcher itself refuses before any handler (METHOD_NOT_ON_THIS_PIPE: a
   * file method over a pipe that may not name files), for the audit log: the handlers' wrapper
   * never sees such a call.
   */
  refused?: (method: MethodName, params: unknown, caller: Caller, error: ApiErrorBody) => void;
  /**
   * Throws the ApiError that says why `caller` may not call `method` (its role, the access
   * policy: access/with-access.ts), for what reaches the backend beside a pipe (a web upload).
   */
  mayCall?: (method: MethodName, caller: Caller) => void;
}

/** One client's end of the dispatcher: feed it what arrives, it answers through `send`. */
export interface Connection {
  receive(text: string): void;
  /** Something arrived that is not a text (a binary frame, a cloned object); it cannot be a JSON message. */
  receiveNonText(kind: string): void;
  close(): void;
  readonly subscriptionCount: number;
}

/** What a pipe may do beyond what every pipe may. */
export interface ConnectionGrants {
  /** The caller runs in the backend's own process (the CLI): it may name files on this machine (LOCAL_FILE_METHODS). */
  readonly localFiles?: boolean;
  /** The desktop app's own window: its page may name a path on this machine (PAGE_PATH_METHODS), never a browser's. */
  readonly pagePaths?: boolean;
  /**
   * A sign-in this pipe shares with others (createPipeSession): the desktop app's windows, one
   * person at one machine, share the operator chosen at the first sign-in, across reloads and
   * windows, until one signs out. Without it the pipe has a sign-in of its own (a browser tab).
   */
  readonly session?: PipeSession;
  /** The source address of the pipe (Caller.address). */
  readonly address?: string;
}

/** What the desktop app's window pipes get: the shared sign-in of the person at this machine, and paths on it from the page. */
export function desktopPipeGrants(session: PipeSession): ConnectionGrants {
  return { session, pagePaths: true };
}

/** A sign-in not yet tied to any pipe: one per pipe by default, or shared (ConnectionGrants.session). */
export function createPipeSession(): PipeSession {
  let operatorId: number | undefined;
  return {
    signIn: (id) => void (operatorId = id),
    signOut: () => void (operatorId = undefined),
    get operatorId() {
      return operatorId;
    },
  };
}

export interface Dispatcher {
  /** `actor` names who acts through this pipe (see Caller); the peer when not given. */
  connect(send: (text: string) => void, peer: string, grants?: ConnectionGrants, actor?: string): Connection;
  /**
   * Checks every open subscription of every pipe against the pipe's caller as it is now
   * (mayReceive); each one no longer allowed stops, and its pipe gets `subscriptionEnded`
   * with the reason. Answers how many ended.
   */
  recheckSubscriptions(): number;
  /**
   * Throws the ApiError that says why a pipe with these grants, acting as `actor`, may not
   * call `method` now (the same role and policy checks as a call over the pipe): what web
   * mode asks before it takes an upload for that method.
   */
  checkMayCall(method: MethodName, grants: ConnectionGrants, actor: string): void;
}

/**
 * The one dispatcher behind every pipe. Every message is parsed on arrival; anything
 * malformed is answered with a structured error and the connection stays up.
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const maxBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
  const { handlers, sources, logger } = options;
  /** Each open pipe's recheck of its own subscriptions. */
  const pipes = new Set<() => number>();
  /** Who calls through a pipe now: its operator read again each time (a removed or re-roled one counts at once). */
  const callerOf = (session: PipeSession, grants: ConnectionGrants, actor: string, peer: string): Caller => {
    const operatorId = session.operatorId;
    const operator = operatorId === undefined ? undefined : options.signedIn?.(operatorId);
    const files = grants.localFiles === true || grants.pagePaths === true ? { namesBackendFiles: true } : {};
    const where =
      grants.address === undefined ? { actor, peer, session, ...files } : { actor, peer, session, ...files, address: grants.address };
    return operator ? { ...where, operator } : where;
  };

  return {
    recheckSubscriptions() {
      let ended = 0;
      for (const recheck of pipes) ended += recheck();
      return ended;
    },
    checkMayCall(method, grants, actor) {
      options.mayCall?.(method, callerOf(grants.session ?? createPipeSession(), grants, actor, actor));
    },
    connect(send, peer, grants = {}, actor = peer) {
      const session = grants.session ?? createPipeSession();
      const callerNow = (): Caller => callerOf(session, grants, actor, peer);
      const subscriptions = new Map<string, { event: EventName; stop: () => void; params: unknown }>();
      let open = true;

      const reply = (message: ServerMessage): void => {
        if (!open) return;
        try {
          let text = JSON.stringify(message);
          const bytes = Buffer.byteLength(text, 'utf8');
          // Capped like what arrives: one multi-megabyte frame holds up every other client of the pipe.
          if (bytes > maxBytes) {
            logger.warn({ peer, type: message.type, bytes, limit: maxBytes }, 'outgoing message over the limit, not sent');
            if (message.type !== 'response') return;
            text = JSON.stringify({
              type: 'response',
              id: message.id,
              ok: false,
              error: answerTooLarge(bytes, maxBytes),
            } satisfies ServerMessage);
          }
          send(text);
        } catch (error) {
          logger.warn({ peer, err: String(error) }, 'could not send to client');
        }
      };
      const fail = (id: string | number | null, body: ApiErrorBody): void => {
        reply({ type: 'response', id, ok: false, error: body });
      };

      const receive = (text: string): void => {
        if (!open) return;
        if (Buffer.byteLength(text, 'utf8') > maxBytes) {
          fail(null, {
            code: 'MESSAGE_TOO_LARGE',
            message: `A message of ${Buffer.byteLength(text, 'utf8')} bytes exceeds the limit of ${maxBytes} bytes.`,
            remedy: 'Send smaller requests; page through large results.',
          });
          return;
        }
        let raw: unknown;
        try {
          raw = JSON.parse(text);
        } catch {
          fail(null, {
            code: 'BAD_JSON',
            message: 'The message is not valid JSON.',
            remedy: 'Send one JSON object per message, as the API contract defines.',
          });
          return;
        }
        const parsed = ClientMessageSchema.safeParse(raw);
        if (!parsed.success) {
          fail(idOf(raw), {
            code: 'BAD_MESSAGE',
            message: `The message is not a request, subscribe or unsubscribe: ${describeIssues(parsed.error.issues)}.`,
            remedy: 'Follow the message shapes in electron/contract/messages.ts.',
          });
          return;
        }
        const message = parsed.data;
        switch (message.type) {
          case 'request':
            void handleRequest(message.id, message.method, message.params);
            return;
          case 'subscribe':
            handleSubscribe(message.id, message.event, message.params);
            return;
          case 'unsubscribe': {
            const subscription = subscriptions.get(message.subscriptionId);
            if (!subscription) {
              fail(message.id, {
                code: 'UNKNOWN_SUBSCRIPTION',
                message: `There is no subscription ${message.subscriptionId} on this connection.`,
                remedy: 'Unsubscribe only with an id a subscribe call returned; it may already be gone.',
              });
              return;
            }
            subscriptions.delete(message.subscriptionId);
            subscription.stop();
            reply({ type: 'response', id: message.id, ok: true, result: {} });
            return;
          }
        }
      };

      const receiveNonText = (kind: string): void => {
        if (!open) return;
        fail(null, {
          code: 'BAD_JSON',
          message: `The message is ${kind}, not a JSON text; only text messages are accepted.`,
          remedy: 'Send each message as one JSON text (a text frame), as the API contract defines.',
        });
      };

      const handleRequest = async (id: string | number, method: string, params: unknown): Promise<void> => {
        if (!isMethodName(method)) {
          fail(id, {
            code: 'UNKNOWN_METHOD',
            message: `There is no method named "${method}".`,
            // Not the whole list: it grows with the contract, past what one answer may carry.
            remedy: `Call a method the API contract defines (electron/contract/api.ts), e.g. ${closestNames(method, Object.keys(methods))}.`,
          });
          return;
        }
        if (LOCAL_FILE_METHODS.has(method) && grants.localFiles !== true) {
          logger.warn({ peer, method }, 'a file method called over a pipe that may not name files, refused');
          const refusal: ApiErrorBody = {
            code: 'METHOD_NOT_ON_THIS_PIPE',
            message: `${method} reads a file on the backend's machine, which only the command line may ask for.`,
            remedy: "Send the file's text instead (hosts.import, installs.start), or run the sutazai command on this machine.",
          };
          options.refused?.(method, params, callerNow(), refusal);
          fail(id, refusal);
          return;
        }
        if (PAGE_PATH_METHODS.has(method) && grants.localFiles !== true && grants.pagePaths !== true) {
          logger.warn({ peer, method }, 'a path on the backend machine named over a browser pipe, refused');
          const refusal: ApiErrorBody = {
            code: 'METHOD_NOT_ON_THIS_PIPE',
            message: `${method} names a file on the backend's machine, which a browser (web mode) may not: its files are not yours to name from here.`,
            remedy:
              'In web mode, download the bundle to your own computer (Download) and analyze a bundle by choosing it from your computer; or run the sutazai command, or the desktop app, on the backend machine.',
          };
          // A browser naming a backend path is the attempt worth recording, as the file methods' above.
          options.refused?.(method, params, callerNow(), refusal);
          fail(id, refusal);
          return;
        }
        const spec = methods[method];
        const parsedParams = spec.params.safeParse(params ?? {});
        if (!parsedParams.success) {
          fail(id, {
            code: 'BAD_PARAMS',
            message: `Bad arguments for ${method}: ${describeIssues(parsedParams.error.issues)}.`,
            remedy: `Pass the arguments ${method} takes in the API contract.`,
          });
          return;
        }
        const pathFields = grants.localFiles === true || grants.pagePaths === true ? [] : backendPathFieldsIn(method, parsedParams.data);
        if (pathFields.length > 0) {
          logger.warn(
            { peer, method, fields: pathFields },
            'a path on the backend machine named in the params over a browser pipe, refused',
          );
          const refusal: ApiErrorBody = {
            code: 'METHOD_NOT_ON_THIS_PIPE',
            message: backendPathMessage(method, pathFields),
            remedy: backendPathRemedy(method),
          };
          // Checked on the parsed params, before the handler: no file is read, probed or imported.
          options.refused?.(method, params, callerNow(), refusal);
          fail(id, refusal);
          return;
        }
        try {
          session.touch?.();
          const handler = handlers[method] as (p: unknown, c: Caller) => unknown;
          const result = await handler(parsedParams.data, callerNow());
          const checked = spec.result.safeParse(result);
          if (!checked.success) {
            logger.error({ method, issues: checked.error.issues.slice(0, 5) }, 'handler result breaks the contract');
            fail(id, internalError());
            return;
          }
          reply({ type: 'response', id, ok: true, result: checked.data });
        } catch (error) {
          if (error instanceof ApiError) {
            fail(id, error.toBody());
            return;
          }
          logger.error({ method, err: error }, 'method failed');
          fail(id, internalError());
        }
      };

      const handleSubscribe = (id: string | number, event: string, params: unknown): void => {
        if (!isEventName(event)) {
          fail(id, {
            code: 'UNKNOWN_EVENT',
            message: `There is no event named "${event}".`,
            remedy: `Subscribe to an event the API contract defines (electron/contract/api.ts): ${Object.keys(events).join(', ')}.`,
          });
          return;
        }
        const parsedParams = events[event].params.safeParse(params ?? {});
        if (!parsedParams.success) {
          fail(id, {
            code: 'BAD_PARAMS',
            message: `Bad arguments for event ${event}: ${describeIssues(parsedParams.error.issues)}.`,
            remedy: `Pass the arguments ${event} takes in the API contract.`,
          });
          return;
        }
        const subscriptionId = randomUUID();
        const start = sources[event] as (p: unknown, emit: (payload: unknown) => void, c: Caller) => () => void;
        try {
          session.touch?.();
          const stop = start(
            parsedParams.data,
            (payload) => {
              if (subscriptions.has(subscriptionId)) reply({ type: 'event', subscriptionId, event, payload });
            },
            callerNow(),
          );
          subscriptions.set(subscriptionId, { event, stop, params: parsedParams.data });
          reply({ type: 'response', id, ok: true, result: { subscriptionId } });
        } catch (error) {
          if (error instanceof ApiError) {
            fail(id, error.toBody());
            return;
          }
          logger.error({ event, err: error }, 'subscription failed');
          fail(id, internalError());
        }
      };

      const recheck = (): number => {
        const mayReceive = options.mayReceive;
        if (mayReceive === undefined || subscriptions.size === 0) return 0;
        // Read once for the pipe: one look at who its operator is now serves all its feeds.
        const caller = callerNow();
        let ended = 0;
        for (const [subscriptionId, { event, stop, params }] of [...subscriptions]) {
          try {
            mayReceive(event, caller, params);
          } catch (error) {
            if (!(error instanceof ApiError)) {
              logger.error({ event, err: error }, 'checking a subscription again failed; it goes on');
              continue;
            }
            subscriptions.delete(subscriptionId);
            stop();
            reply({ type: 'subscriptionEnded', subscriptionId, event, error: error.toBody() });
            ended += 1;
          }
        }
        return ended;
      };
      pipes.add(recheck);

      return {
        receive,
        receiveNonText,
        close() {
          open = false;
          pipes.delete(recheck);
          for (const { stop } of subscriptions.values()) stop();
          subscriptions.clear();
        },
        get subscriptionCount() {
          return subscriptions.size;
        },
      };
    },
  };
}

/** The defined names sharing the unknown one's group (`hosts.` for `hosts.lsit`), else the first few. */
function closestNames(name: string, known: readonly string[]): string {
  const group = name.split('.')[0] + '.';
  const same = known.filter((k) => k.startsWith(group));
  return (same.length > 0 ? same : known).slice(0, 8).join(', ');
}

function idOf(raw: unknown): string | number | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const id = (raw as { id?: unknown }).id;
  if (typeof id === 'string' && id.length > 0 && id.length <= 64) return id;
  if (typeof id === 'number' && Number.isInteger(id) && id >= 0) return id;
  return null;
}

function describeIssues(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  return issues
    .slice(0, 3)
    .map((issue) => (issue.path.length ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

function answerTooLarge(bytes: number, limit: number): ApiErrorBody {
  return {
    code: 'MESSAGE_TOO_LARGE',
    message: `The answer would be ${bytes} bytes, over the limit of ${limit} bytes; it was not sent.`,
    remedy: 'Ask for less at a time: page through lists (hosts.list takes after and limit) or narrow the request.',
  };
}

function internalError(): ApiErrorBody {
  return {
    code: 'INTERNAL',
    message: 'The backend failed to answer this request.',
    remedy: 'Try again; if it keeps failing, send the app log (in the data directory) with your report.',
  };
}
