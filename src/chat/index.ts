import { ChangeClock } from './change-clock';
import { ChatEventHub } from './chat-events';
import { createConversationService } from './conversation.service';
import { createDeliveryService } from './delivery.service';
import { createMessageService } from './message.service';
import { createReadService } from './read.service';
import { createSyncService } from './sync.service';

export * from './types';
export { ChatEventHub } from './chat-events';
export { ChangeClock } from './change-clock';

/** The one service layer that REST controllers and socket handlers both call. */
export function createChatServices(
  events: ChatEventHub = new ChatEventHub(),
  clock: ChangeClock = new ChangeClock(),
) {
  const reads = createReadService(events, clock);
  const deliveries = createDeliveryService(events, clock);
  return {
    events,
    clock,
    conversations: createConversationService(events),
    messages: createMessageService(events, reads, clock),
    reads,
    deliveries,
    sync: createSyncService(clock, deliveries),
  };
}

export type ChatServices = ReturnType<typeof createChatServices>;
