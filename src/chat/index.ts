import { unlimited, type RateLimits } from '../lib/rate-limits';
import { createBlockService } from './block.service';
import { ChangeClock } from './change-clock';
import { ChatEventHub } from './chat-events';
import { createConversationService } from './conversation.service';
import { createDeliveryService } from './delivery.service';
import { createMessageService } from './message.service';
import { ParticipationCache } from './participation-cache';
import { DEFAULT_PARTICIPATION_TTL_MS } from '../config';
import { createReadService } from './read.service';
import { createSyncService } from './sync.service';

export * from './types';
export { ChatEventHub } from './chat-events';
export { ChangeClock } from './change-clock';
export { ParticipationCache } from './participation-cache';

export interface ChatServiceOptions {
  events?: ChatEventHub;
  clock?: ChangeClock;
  limits?: RateLimits;
  participation?: ParticipationCache;
}

/** The one service layer that REST controllers and socket handlers both call. */
export function createChatServices(options: ChatServiceOptions | ChatEventHub = {}) {
  const {
    events = new ChatEventHub(),
    clock = new ChangeClock(),
    limits = unlimited,
    participation = new ParticipationCache({ ttlMs: DEFAULT_PARTICIPATION_TTL_MS }),
  } = options instanceof ChatEventHub ? { events: options } : options;
  const reads = createReadService(events, clock);
  const deliveries = createDeliveryService(events, clock, participation);
  return {
    events,
    clock,
    limits,
    participation,
    conversations: createConversationService(events, limits, participation),
    messages: createMessageService(events, reads, clock, limits, participation),
    reads,
    deliveries,
    blocks: createBlockService(participation),
    sync: createSyncService(clock, deliveries),
  };
}

export type ChatServices = ReturnType<typeof createChatServices>;
