import type { ChatServices } from '../../chat';
import { toKarmyqMessageView, toMessageView } from '../../chat/presenters';
import type { RealtimeContext } from '../context';
import { onEvent } from '../ack';
import { parseReceiptPayload, parseSendPayload } from '../payloads';
import type { ChatSocket } from '../socket-types';

/** send_message: the same service call as POST …/messages, answered in the sender's dialect. */
export function registerMessageHandlers(
  socket: ChatSocket,
  chat: ChatServices,
  ctx: RealtimeContext,
): void {
  const actor = socket.data.actor;
  // One send at a time per socket: concurrent handlers would race for seq, so a
  // burst from one client could be stored and broadcast out of the order it was sent.
  let previous: Promise<unknown> = Promise.resolve();
  onEvent(socket, 'send_message', ctx, async (payload) => {
    const input = parseSendPayload(payload, actor.id);
    const turn = previous.then(() =>
      chat.messages.send(actor, input.conversationId, {
        text: input.text,
        clientMessageId: input.clientMessageId,
      }),
    );
    previous = turn.catch(() => undefined);
    const { record, sender } = await turn;
    const data =
      input.dialect === 'karmyq'
        ? toKarmyqMessageView(record, sender)
        : toMessageView(record, sender);
    return { success: true, data };
  });

  onEvent(socket, 'message_received', ctx, async (payload) => {
    const { conversationId, messageIds, upToSeq } = parseReceiptPayload(payload);
    const delivered = await chat.deliveries.acknowledge(actor, conversationId, {
      messageIds,
      upToSeq,
    });
    return { success: true, data: { conversation_id: conversationId, delivered } };
  });
}
