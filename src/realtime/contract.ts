import type { HeldRecovery } from './checked-recovery';
import type { Invalidation } from '../chat/participation-cache';
import type { Actor, KarmyqMessageView, MessageView } from '../chat/types';
import type { FailureBody } from '../lib/errors';

/**
 * The typed Socket.IO contract. Names and payload shapes follow the Horse Trust
 * document, with the Karmyq dialect's shapes accepted too. Client payloads are
 * `unknown` on purpose: nothing from a client is trusted before it is parsed.
 */
export type AckBody<T = unknown> = { success: true; data: T } | FailureBody;
export type Ack = (body: AckBody) => void;

export interface ClientToServerEvents {
  join_conversation(payload: unknown, ack?: Ack): void;
  leave_conversation(payload: unknown, ack?: Ack): void;
  send_message(payload: unknown, ack?: Ack): void;
  mark_read(payload: unknown, ack?: Ack): void;
  /** A fresh token for this socket (before or after the old one expires); rooms are kept. */
  authenticate(payload: unknown, ack?: Ack): void;
  /** A recipient's device acknowledges that it received messages: `sent` → `delivered`. */
  message_received(payload: unknown, ack?: Ack): void;
  typing(payload: unknown, ack?: Ack): void;
  stop_typing(payload: unknown, ack?: Ack): void;
  typing_start(payload: unknown, ack?: Ack): void;
  typing_stop(payload: unknown, ack?: Ack): void;
}

export interface MessageNotification {
  conversation_id: string;
  sender: string;
  preview: string;
  message_id: string;
  seq: number;
}

export interface MessagesReadPayload {
  conversation_id: string;
  reader_id: string;
  read_up_to_seq: number;
  read_up_to_message_id: string | null;
  read_at: string;
}

export interface MessageDeletedPayload {
  _id: string;
  id: string;
  conversation_id: string;
  seq: number;
  deleted_at: string;
}

export interface MessageDeliveredPayload {
  conversation_id: string;
  message_id: string;
  seq: number;
  delivered_to: string;
  delivered_at: string;
  status: 'delivered';
}

export interface TypingPayload {
  conversation_id: string;
  userId?: string;
  user_id?: string;
  user_name?: string;
}

export interface ServerToClientEvents {
  new_message(message: MessageView | KarmyqMessageView): void;
  message_delivered(receipt: MessageDeliveredPayload): void;
  message_notification(notification: MessageNotification): void;
  messages_read(receipt: MessagesReadPayload): void;
  message_deleted(payload: MessageDeletedPayload): void;
  user_typing(payload: TypingPayload): void;
  user_stop_typing(payload: TypingPayload): void;
  user_stopped_typing(payload: TypingPayload): void;
  removed_from_conversation(payload: { conversation_id: string }): void;
  /** The token expired: events are refused until `authenticate`; disconnect after the grace. */
  token_expired(payload: {
    message: string;
    code: 'TOKEN_EXPIRED';
    reauthenticate_within_ms: number;
  }): void;
  /** This node is going away: reconnect (to another node) and resync. */
  server_shutdown(payload: { message: string; reconnect: true }): void;
}

/** Between nodes of a cluster (through the adapter), never from clients. */
export interface InterServerEvents {
  /** Drop cached send contexts; the sender waits for every node's acknowledgement. */
  participation_invalidate(invalidation: Invalidation, done: () => void): void;
  /** How many sockets of this user the answering node holds (MAX_SOCKETS_PER_USER). */
  count_user_sockets(userId: string, done: (count: number) => void): void;
}

export interface SocketData {
  actor: Actor;
  /** Token expiry (seconds since epoch), when the token has one. */
  tokenExpiresAt?: number;
  /** Set once the token has expired, until the socket re-authenticates. */
  tokenExpired?: boolean;
  /** A restored session's rooms and missed packets, until its new handshake is checked. */
  heldRecovery?: HeldRecovery;
}
