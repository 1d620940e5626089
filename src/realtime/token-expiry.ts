import type { Actor } from '../chat/types';
import { AppError } from '../lib/errors';
import type { TokenVerifier } from '../lib/jwt';
import type { Logger } from '../lib/logger';
import type { SocketEventTable } from './ack';
import type { AckBody } from './contract';
import { joinAllowedRooms } from './room-check';
import type { ChatSocket } from './socket-types';

const MAX_TIMER_MS = 2 ** 31 - 1;

/** A socket whose token has expired: the rooms it was taken out of, and its deadline. */
interface Suspension {
  rooms: string[];
  graceTimer: NodeJS.Timeout;
}

/**
 * Enforces token expiry on live sockets. At expiry a socket leaves its rooms
 * (no more events reach it), its events are refused with TOKEN_EXPIRED and it
 * gets `token_expired`. An `authenticate` event with a fresh token for the same
 * user restores its rooms (re-checking participation); without one within the
 * grace period, the socket is disconnected.
 *
 * One instance per server; per socket it keeps one timer, and state only while
 * the socket is suspended (no closures per connection: see ack.ts).
 */
export class TokenExpiry {
  private readonly expiryTimers = new WeakMap<ChatSocket, NodeJS.Timeout>();
  private readonly suspensions = new WeakMap<ChatSocket, Suspension>();

  readonly handlers: SocketEventTable = {
    authenticate: (socket, payload) => this.authenticate(socket, payload),
  };

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly loadActor: (userId: string) => Promise<Actor | null>,
    private readonly graceMs: number,
    private readonly logger: Logger,
  ) {}

  /** Starts watching a newly connected socket's token. */
  watch(socket: ChatSocket): void {
    this.schedule(socket);
  }

  /** Drops a disconnected socket's timers. */
  forget(socket: ChatSocket): void {
    clearTimeout(this.expiryTimers.get(socket));
    clearTimeout(this.suspensions.get(socket)?.graceTimer);
    this.expiryTimers.delete(socket);
    this.suspensions.delete(socket);
  }

  private schedule(socket: ChatSocket): void {
    clearTimeout(this.expiryTimers.get(socket));
    const expiresAt = socket.data.tokenExpiresAt;
    // A disconnected socket is never watched again: forget() has dropped its state.
    if (!expiresAt || !socket.connected) {
      this.expiryTimers.delete(socket);
      return;
    }
    const ms = Math.min(Math.max(expiresAt * 1000 - Date.now(), 0), MAX_TIMER_MS);
    this.expiryTimers.set(socket, setTimeout(this.check, ms, socket));
  }

  /** A timer callback shared by every socket (the socket comes as the timer's argument). */
  private readonly check = (socket: ChatSocket): void => {
    if (!socket.connected) return;
    const expiresAt = socket.data.tokenExpiresAt;
    if (!expiresAt || expiresAt * 1000 > Date.now()) return this.schedule(socket);
    this.expiryTimers.delete(socket);
    socket.data.tokenExpired = true;
    const rooms = [...socket.rooms].filter((room) => room !== socket.id);
    for (const room of rooms) void socket.leave(room);
    socket.emit('token_expired', {
      message: 'Token expired: send `authenticate` with a fresh token',
      code: 'TOKEN_EXPIRED',
      reauthenticate_within_ms: this.graceMs,
    });
    this.suspensions.set(socket, {
      rooms,
      graceTimer: setTimeout(disconnectNow, this.graceMs, socket),
    });
  };

  private async authenticate(socket: ChatSocket, payload: unknown): Promise<AckBody> {
    const raw = (payload as { token?: unknown } | null)?.token ?? payload;
    if (typeof raw !== 'string') throw new AppError('VALIDATION_FAILED', 'Expected {token}');
    const { userId, expiresAt } = this.verified(raw.replace(/^Bearer\s+/i, ''));
    if (userId !== socket.data.actor.id) {
      throw new AppError('FORBIDDEN', 'A socket cannot change user');
    }
    // As at the handshake and on every REST request: a valid token for a user the
    // marketplace has deleted renews nothing. The profile is refreshed on the way
    // (a renamed user's typing shows the new name).
    const actor = await this.loadActor(userId);
    if (!actor) throw new AppError('UNAUTHENTICATED', 'User no longer exists');
    // Gone while the user was read (forget() has run): nothing to renew, and a timer
    // armed now would hold the dead socket until the new token's expiry.
    if (!socket.connected) throw new AppError('TOKEN_EXPIRED');
    socket.data.actor = actor;
    socket.data.tokenExpiresAt = expiresAt;
    const suspension = this.suspensions.get(socket);
    // A suspension exists exactly while socket.data.tokenExpired is set (check() sets both).
    if (suspension) {
      // Rejoins the rooms it left, except conversations it no longer belongs to. The
      // suspension (and its grace timer) is lifted only once that worked: if the read
      // fails, the client's retry finds it intact instead of a socket left refused.
      await joinAllowedRooms(socket, suspension.rooms, userId, { live: true });
      // The grace ran out meanwhile: the socket is gone, nothing to restore or watch.
      if (!socket.connected) throw new AppError('TOKEN_EXPIRED');
      if (this.suspensions.get(socket) === suspension) {
        clearTimeout(suspension.graceTimer);
        this.suspensions.delete(socket);
      }
      socket.data.tokenExpired = false;
    }
    this.schedule(socket);
    return {
      success: true,
      data: { expires_at: expiryTime(expiresAt) },
    };
  }

  /** A failure to check the token is a refusal, never an internal error. */
  private verified(token: string): ReturnType<TokenVerifier['verify']> {
    try {
      return this.verifier.verify(token);
    } catch (err) {
      if (err instanceof AppError) throw err;
      this.logger.warn({ err }, 'socket re-authentication failed');
      throw new AppError('UNAUTHENTICATED');
    }
  }
}

/** A token's `exp` as an ISO time; null without one, or past what a Date can hold (year 275760). */
function expiryTime(expiresAt: number | undefined): string | null {
  const at = new Date((expiresAt ?? NaN) * 1000);
  return Number.isNaN(at.getTime()) ? null : at.toISOString();
}

function disconnectNow(socket: ChatSocket): void {
  socket.disconnect(true);
}
