import { AppError, failureBody } from '../lib/errors';
import { toAppError } from '../lib/error-mapping';
import { countFailure } from '../lib/metrics';
import type { RealtimeContext } from './context';
import type { AckBody, ClientToServerEvents } from './contract';
import type { ChatSocket } from './socket-types';

/**
 * Registers a handler that owns its errors: the payload is the first argument,
 * the ack (if the client gave one) the last; a throw becomes `{success:false}`
 * and is never an unhandled rejection. Events are refused while the node drains
 * or the socket's token has expired, and counted as in flight otherwise.
 */
export function onEvent(
  socket: ChatSocket,
  event: keyof ClientToServerEvents,
  ctx: RealtimeContext,
  handler: (payload: unknown) => Promise<AckBody | void>,
): void {
  socket.on(event, async (...args: unknown[]) => {
    const ack =
      typeof args[args.length - 1] === 'function'
        ? (args.pop() as (body: AckBody) => void)
        : undefined;
    const started = process.hrtime.bigint();
    let body: AckBody | void;
    try {
      if (ctx.lifecycle.draining) throw new AppError('SHUTTING_DOWN');
      if (socket.data.tokenExpired) throw new AppError('TOKEN_EXPIRED');
      body = await ctx.lifecycle.track(() => handler(args[0]));
    } catch (err) {
      const appError = toAppError(err);
      if (appError.code === 'INTERNAL') ctx.logger.error({ err, event }, 'socket handler failed');
      countFailure(ctx.metrics, appError.code, appError.status);
      body = failureBody(appError);
    }
    ctx.metrics?.ackLatency.observe({ event }, Number(process.hrtime.bigint() - started) / 1e9);
    if (ack && body) {
      try {
        ack(body);
      } catch (err) {
        ctx.logger.warn({ err, event }, 'socket ack callback threw');
      }
    }
  });
}
