import { unlimited, type RateLimits } from '../lib/rate-limits';
import { createBlockService } from './block.service';
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

export interface ChatServiceOptions {
  events?: ChatEventHub;
  clock?: ChangeClock;
  limits?: RateLimits;
}

/** The one service layer that REST controllers and socket handlers both call. */
export function createChatServices(options: ChatServiceOptions | ChatEventHub = {}) {
  const {
    events = new ChatEventHub(),
    clock = new ChangeClock(),
    limits = unlimited,
  } = options instanceof ChatEventHub ? { events: options } : options;
  const reads = createReadService(events, clock);
  const deliveries = createDeliveryService(events, clock);
  return {
    events,
    clock,
    limits,
    conversations: createConversationService(events, limits),
    messages: createMessageService(events, reads, clock, limits),
    reads,
    deliveries,
    blocks: createBlockService(),
    sync: createSyncService(clock, deliveries),
  };
}

export type ChatServices = ReturnType<typeof createChatServices>;
