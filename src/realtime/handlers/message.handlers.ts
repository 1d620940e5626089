import type { ChatServices } from '../../chat';
import { toKarmyqMessageView, toMessageView } from '../../chat/presenters';
import { AppError } from '../../lib/errors';
import type { SocketEventTable } from '../ack';
import { parseReceiptPayload, parseSendPayload } from '../payloads';
import type { ChatSocket } from '../socket-types';

const settled = (): void => undefined;

/**
 * Sends one socket may have waiting for their turn (beyond: RATE_LIMITED): far
 * above an app's outbox flush, each holding at most a validated 2,000-character text.
 */
const MAX_QUEUED_SENDS = 256;

/** send_message: the same service call as POST …/messages, answered in the sender's dialect. */
export function messageHandlers(chat: ChatServices): SocketEventTable {
  // One send at a time per socket: concurrent handlers would race for seq, so a
  // burst from one client could be stored and broadcast out of the order it was sent.
  // The tail of each socket's sends, kept only for sockets that have sent.
  const sendTails = new WeakMap<ChatSocket, Promise<unknown>>();
  const queuedSends = new WeakMap<ChatSocket, number>();

  return {
    async send_message(socket, payload) {
      const actor = socket.data.actor;
      const input = parseSendPayload(payload, actor.id);
      // The rate limit is taken in turn, so without a bound a client could queue
      // any number of sends (each holding its payload, and a shutdown waiting on all).
      const queued = queuedSends.get(socket) ?? 0;
      if (queued >= MAX_QUEUED_SENDS) {
        throw new AppError('RATE_LIMITED', 'Too many sends waiting on this socket');
      }
      queuedSends.set(socket, queued + 1);
      const previous = sendTails.get(socket) ?? Promise.resolve();
      const turn = previous.then(() =>
        chat.messages.send(actor, input.conversationId, {
          text: input.text,
          clientMessageId: input.clientMessageId,
        }),
      );
      // Settles to undefined either way: `turn.catch()` would keep the stored message
      // alive until this socket's next send (long enough to be promoted to the old
      // generation, which then has to mark and free it).
      const done = turn.then(settled, settled);
      sendTails.set(socket, done);
      void done.then(() => queuedSends.set(socket, (queuedSends.get(socket) ?? 1) - 1));
      const { record, sender } = await turn;
      const data =
        input.dialect === 'karmyq'
          ? toKarmyqMessageView(record, sender)
          : toMessageView(record, sender);
      return { success: true, data };
    },

    async message_received(socket, payload) {
      const { conversationId, messageIds, upToSeq } = parseReceiptPayload(payload);
      const delivered = await chat.deliveries.acknowledge(socket.data.actor, conversationId, {
        messageIds,
        upToSeq,
      });
      return { success: true, data: { conversation_id: conversationId, delivered } };
    },
  };
}
