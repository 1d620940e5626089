import type { RateLimits } from '../../src/lib/rate-limits';
import type { Express } from 'express';
import { createApp } from '../../src/app';
import { ChangeClock, ChatEventHub, createChatServices, type ChatServices } from '../../src/chat';
import type { ChatEvents } from '../../src/chat/chat-events';
import { databaseIsReachable } from '../../src/db/connect';
import { createTokenVerifier } from '../../src/lib/jwt';
import { createLogger } from '../../src/lib/logger';
import { testConfig } from './tokens';

type Recorded = {
  [K in keyof ChatEvents]: { type: K; event: Parameters<ChatEvents[K]>[0] };
}[keyof ChatEvents];

/**
 * The Express app on the per-file test database, recording every domain event it
 * announces. `clock` lets a test shorten the change clock's failed-write grace.
 */
export function buildTestApp(options: { clock?: ChangeClock; limits?: RateLimits } = {}): {
  app: Express;
  chat: ChatServices;
  events: Recorded[];
} {
  const config = testConfig();
  const hub = new ChatEventHub();
  const events: Recorded[] = [];
  hub.subscribe({
    messageCreated: (event) => events.push({ type: 'messageCreated', event }),
    messagesRead: (event) => events.push({ type: 'messagesRead', event }),
    messageDeleted: (event) => events.push({ type: 'messageDeleted', event }),
    messageDelivered: (event) => events.push({ type: 'messageDelivered', event }),
    participantsChanged: (event) => events.push({ type: 'participantsChanged', event }),
  });
  const chat = createChatServices({
    events: hub,
    clock: options.clock ?? new ChangeClock(),
    limits: options.limits,
  });
  const app = createApp({
    chat,
    verifier: createTokenVerifier(config.jwt),
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    readiness: async () => ({ database: await databaseIsReachable() }),
  });
  return { app, chat, events };
}
