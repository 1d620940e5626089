import { Types } from 'mongoose';
import { Conversation } from '../../models';
import { AppError, failureBody } from '../lib/errors';
import type { TokenVerifier } from '../lib/jwt';
import type { Logger } from '../lib/logger';
import type { AckBody } from './contract';
import { userRoom } from './rooms';
import type { ChatSocket } from './socket-types';

const MAX_TIMER_MS = 2 ** 31 - 1;
const CONVERSATION_ROOM = /^conversation:([0-9a-f]{24})(?::karmyq)?$/;

/**
 * Enforces token expiry on a live socket. At expiry the socket leaves its rooms
 * (no more events reach it), its events are refused with TOKEN_EXPIRED and it
 * gets `token_expired`. An `authenticate` event with a fresh token for the same
 * user restores its rooms (re-checking participation); without one within the
 * grace period, the socket is disconnected.
 */
export function enforceTokenExpiry(
  socket: ChatSocket,
  verifier: TokenVerifier,
  graceMs: number,
  logger: Logger,
): void {
  let expiryTimer: NodeJS.Timeout | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  let suspendedRooms: string[] = [];

  const schedule = () => {
    clearTimeout(expiryTimer);
    const expiresAt = socket.data.tokenExpiresAt;
    if (!expiresAt) return;
    expiryTimer = setTimeout(
      check,
      Math.min(Math.max(expiresAt * 1000 - Date.now(), 0), MAX_TIMER_MS),
    );
  };

  const check = () => {
    const expiresAt = socket.data.tokenExpiresAt;
    if (!expiresAt || expiresAt * 1000 > Date.now()) return schedule();
    socket.data.tokenExpired = true;
    suspendedRooms = [...socket.rooms].filter((room) => room !== socket.id);
    for (const room of suspendedRooms) void socket.leave(room);
    socket.emit('token_expired', {
      message: 'Token expired: send `authenticate` with a fresh token',
      code: 'TOKEN_EXPIRED',
      reauthenticate_within_ms: graceMs,
    });
    graceTimer = setTimeout(() => socket.disconnect(true), graceMs);
  };

  const restoreRooms = async (userId: string) => {
    const conversationIds = suspendedRooms
      .map((room) => CONVERSATION_ROOM.exec(room)?.[1])
      .filter((id): id is string => Boolean(id));
    const stillIn = new Set(
      (
        await Conversation.find(
          { _id: { $in: conversationIds }, participants: new Types.ObjectId(userId) },
          { _id: 1 },
        ).lean()
      ).map((c) => c._id.toString()),
    );
    const rooms = suspendedRooms.filter((room) => {
      const id = CONVERSATION_ROOM.exec(room)?.[1];
      return id ? stillIn.has(id) : room === userRoom(userId);
    });
    await Promise.all(rooms.map((room) => socket.join(room)));
    suspendedRooms = [];
  };

  // Like every other event: the ack is the last argument, whatever comes before it.
  socket.on('authenticate', async (...args: unknown[]) => {
    const ack =
      typeof args[args.length - 1] === 'function'
        ? (args.pop() as (body: AckBody) => void)
        : undefined;
    const payload = args[0];
    let body: AckBody;
    try {
      const raw = (payload as { token?: unknown } | null)?.token ?? payload;
      if (typeof raw !== 'string') throw new AppError('VALIDATION_FAILED', 'Expected {token}');
      const token = raw.replace(/^Bearer\s+/i, '');
      const { userId, expiresAt } = verifier.verify(token);
      if (userId !== socket.data.actor.id)
        throw new AppError('FORBIDDEN', 'A socket cannot change user');
      socket.data.tokenExpiresAt = expiresAt;
      if (socket.data.tokenExpired) {
        clearTimeout(graceTimer);
        await restoreRooms(userId);
        socket.data.tokenExpired = false;
      }
      schedule();
      body = {
        success: true,
        data: { expires_at: expiresAt ? new Date(expiresAt * 1000).toISOString() : null },
      };
    } catch (err) {
      body = failureBody(err instanceof AppError ? err : new AppError('UNAUTHENTICATED'));
      if (!(err instanceof AppError)) logger.warn({ err }, 'socket re-authentication failed');
    }
    if (typeof ack === 'function') ack(body);
  });

  socket.on('disconnect', () => {
    clearTimeout(expiryTimer);
    clearTimeout(graceTimer);
  });
  schedule();
}
