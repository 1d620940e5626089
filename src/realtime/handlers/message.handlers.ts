import type { ChatServices } from '../../chat';
import { toKarmyqMessageView, toMessageView } from '../../chat/presenters';
import type { SocketEventTable } from '../ack';
import { parseReceiptPayload, parseSendPayload } from '../payloads';
import type { ChatSocket } from '../socket-types';

const settled = (): void => undefined;

/** send_message: the same service call as POST …/messages, answered in the sender's dialect. */
export function messageHandlers(chat: ChatServices): SocketEventTable {
  // One send at a time per socket: concurrent handlers would race for seq, so a
  // burst from one client could be stored and broadcast out of the order it was sent.
  // The tail of each socket's sends, kept only for sockets that have sent.
  const sendTails = new WeakMap<ChatSocket, Promise<unknown>>();

  return {
    async send_message(socket, payload) {
      const actor = socket.data.actor;
      const input = parseSendPayload(payload, actor.id);
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
      sendTails.set(socket, turn.then(settled, settled));
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
