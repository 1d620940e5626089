import type { Socket } from 'socket.io';
import { failureBody } from '../lib/errors';
import type { Logger } from '../lib/logger';
import { toAppError } from '../http/middleware/errors';
import type { AckBody, ClientToServerEvents } from './contract';

type AnySocket = Socket<ClientToServerEvents>;

/**
 * Registers a handler that owns its errors: the payload is the first argument,
 * the ack (if the client gave one) the last; a throw becomes `{success:false}`
 * and is never an unhandled rejection.
 */
export function onEvent(
  socket: AnySocket,
  event: keyof ClientToServerEvents,
  logger: Logger,
  handler: (payload: unknown) => Promise<AckBody | void>,
): void {
  socket.on(event, async (...args: unknown[]) => {
    const ack =
      typeof args[args.length - 1] === 'function'
        ? (args.pop() as (body: AckBody) => void)
        : undefined;
    let body: AckBody | void;
    try {
      body = await handler(args[0]);
    } catch (err) {
      const appError = toAppError(err);
      if (appError.code === 'INTERNAL') logger.error({ err, event }, 'socket handler failed');
      body = failureBody(appError);
    }
    if (ack && body) {
      try {
        ack(body);
      } catch (err) {
        logger.warn({ err, event }, 'socket ack callback threw');
      }
    }
  });
}
