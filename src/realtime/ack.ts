import { AppError, failureBody } from '../lib/errors';
import { toAppError } from '../lib/error-mapping';
import { countFailure } from '../lib/metrics';
import type { RealtimeContext } from './context';
import type { AckBody, ClientToServerEvents } from './contract';
import { SocketGate } from './socket-gate';
import type { ChatSocket } from './socket-types';

/**
 * The handler of one client event, shared by every socket: it gets the socket
 * and the payload, and keeps any per-socket state on the socket's side (a
 * WeakMap), not in closures. Registering a listener per event per socket cost
 * some 30 closures, their scopes and a dictionary of event names per connection,
 * ~3 KB of the 4.7 KB a product socket held beyond a bare Socket.IO one (heap
 * snapshots of npm run bench's memory benchmark; README).
 */
export type SocketEventHandler = (socket: ChatSocket, payload: unknown) => Promise<AckBody | void>;

export type SocketEventTable = Partial<Record<keyof ClientToServerEvents, SocketEventHandler>>;

/** The answer of an event done for a conversation (join, leave, typing): `{success, data: {conversation_id}}`. */
export function conversationAck(conversationId: string) {
  return { success: true as const, data: { conversation_id: conversationId } };
}

/** The only event a socket whose token has expired may send: it is how the socket recovers. */
const ANSWERED_WHILE_EXPIRED: ReadonlySet<string> = new Set(['authenticate']);

/**
 * Events that bypass the per-socket gate: a send has its own queue, one at a
 * time per socket with a bound (message.handlers.ts), and its rate limit.
 */
const OWN_QUEUE: ReadonlySet<string> = new Set(['send_message']);

/**
 * `authenticate` has a line of its own, one at a time: a socket whose token
 * expired must be able to recover while its other events wait (its grace runs).
 */
const AUTHENTICATE_RUNNING = 1;
const AUTHENTICATE_WAITING = 4;

/** One error for every refusal of a full line: a flood is refused without a stack trace each. */
const LINE_FULL = new AppError('RATE_LIMITED', 'Too many events waiting on this socket: slow down');

/** The answer to an event no handler takes, when the client asked for one. */
const UNKNOWN_EVENT = failureBody(new AppError('ROUTE_NOT_FOUND', 'Unknown event'));

/**
 * One catch-all listener (`socket.onAny`) for every socket, routing each event
 * to its handler. An event without a handler does nothing; if it came with an
 * ack, the ack says so rather than leaving the client to time out. `forget`
 * takes a disconnected socket's waiting events out of line at once.
 */
export function socketEventDispatcher(
  tables: SocketEventTable[],
  ctx: RealtimeContext,
): {
  dispatch: (this: ChatSocket, event: unknown, ...args: unknown[]) => void;
  forget(socket: ChatSocket): void;
} {
  const routes = new Map<string, SocketEventHandler>();
  for (const table of tables) {
    for (const [event, handler] of Object.entries(table)) {
      if (routes.has(event)) throw new Error(`Two handlers for socket event "${event}"`);
      if (handler) routes.set(event, handler);
    }
  }
  const gate = new SocketGate();
  const authenticateGate = new SocketGate(AUTHENTICATE_RUNNING, AUTHENTICATE_WAITING);
  const gateOf = (event: string): SocketGate | null =>
    OWN_QUEUE.has(event) ? null : event === 'authenticate' ? authenticateGate : gate;
  // Socket.IO calls an onAny listener with the socket as `this`.
  function dispatch(this: ChatSocket, event: unknown, ...args: unknown[]): void {
    const handler = typeof event === 'string' ? routes.get(event) : undefined;
    if (handler) {
      void answer(this, event as string, handler, args, ctx, gateOf(event as string));
      return;
    }
    const ack = args[args.length - 1];
    if (typeof ack === 'function') {
      try {
        (ack as (body: AckBody) => void)(UNKNOWN_EVENT);
      } catch (err) {
        ctx.logger.warn({ err }, 'socket ack callback threw');
      }
    }
  }
  return {
    dispatch,
    forget(socket) {
      gate.abandon(socket);
      authenticateGate.abandon(socket);
    },
  };
}

/**
 * Runs a handler so that it owns its errors: the payload is the first argument,
 * the ack (if the client gave one) the last; a throw becomes `{success:false}`
 * and is never an unhandled rejection. Events are refused while the node drains
 * or the socket's token has expired, and counted as in flight otherwise, until
 * their answer is sent: a shutdown closes connections once nothing is in flight,
 * and an answer sent after that would be lost with its work done (a stored
 * message the client then sends again). Through `gate` (socket-gate.ts) the
 * event waits for one of the socket's slots first, or is refused when too many
 * wait; one that waited is checked again, and dropped if its socket is gone.
 */
async function answer(
  socket: ChatSocket,
  event: string,
  handler: SocketEventHandler,
  args: unknown[],
  ctx: RealtimeContext,
  gate: SocketGate | null,
): Promise<void> {
  const ack =
    typeof args[args.length - 1] === 'function'
      ? (args.pop() as (body: AckBody) => void)
      : undefined;
  const started = process.hrtime.bigint();
  const respond = (body: AckBody | void) => {
    ctx.metrics?.ackLatency.observe({ event }, Number(process.hrtime.bigint() - started) / 1e9);
    if (!ack || !body) return;
    try {
      ack(body);
    } catch (err) {
      ctx.logger.warn({ err, event }, 'socket ack callback threw');
    }
  };
  const refusal = (err: unknown): AckBody => {
    const appError = toAppError(err);
    if (appError.code === 'INTERNAL') ctx.logger.error({ err, event }, 'socket handler failed');
    countFailure(ctx.metrics, appError.code, appError.status);
    return failureBody(appError);
  };
  const refused = (): AckBody | undefined => {
    if (ctx.lifecycle.draining) return refusal(new AppError('SHUTTING_DOWN'));
    if (socket.data.tokenExpired && !ANSWERED_WHILE_EXPIRED.has(event)) {
      return refusal(new AppError('TOKEN_EXPIRED'));
    }
    return undefined;
  };
  const early = refused();
  if (early) return respond(early);
  // Taken before any await, so that waiting events keep the order they arrived in.
  const ticket = gate ? gate.enter(socket) : 'now';
  if (ticket === 'refused') return respond(refusal(LINE_FULL));
  await ctx.lifecycle.track(async () => {
    let body: AckBody | void;
    try {
      if (ticket !== 'now') {
        await ticket;
        // Nobody to answer, or things changed while it waited.
        if (socket.disconnected) return;
        const late = refused();
        if (late) return respond(late);
      }
      body = await handler(socket, args[0]);
    } catch (err) {
      body = refusal(err);
    } finally {
      gate?.release(socket);
    }
    respond(body);
  });
}
