import { ChatEventHub } from './chat-events';
import { createConversationService } from './conversation.service';
import { createMessageService } from './message.service';
import { createReadService } from './read.service';

export * from './types';
export { ChatEventHub } from './chat-events';

/** The one service layer that REST controllers and socket handlers both call. */
export function createChatServices(events: ChatEventHub = new ChatEventHub()) {
  const reads = createReadService(events);
  return {
    events,
    conversations: createConversationService(events),
    messages: createMessageService(events, reads),
    reads,
  };
}

export type ChatServices = ReturnType<typeof createChatServices>;
