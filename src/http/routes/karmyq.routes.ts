import { Router, type RequestHandler } from 'express';
import type { ChatServices } from '../../chat';
import { conversationController } from '../controllers/conversation.controller';
import { karmyqController } from '../controllers/karmyq.controller';
import { requireJsonBody } from '../middleware/request-shape';
import { validate } from '../middleware/validate';
import { createConversationRules, markReadRules } from '../validators/conversation.validators';
import { karmyqHistoryRules, karmyqListRules } from '../validators/karmyq.validators';

/**
 * The Karmyq document's REST paths under /messages, behind the same
 * authentication as /api/chat (its document names no auth; ours requires a token).
 */
export function karmyqRoutes(chat: ChatServices, authenticate: RequestHandler[]): Router {
  const router = Router();
  const karmyq = karmyqController(chat);
  const conversations = conversationController(chat);
  router.use(authenticate);

  // Before /:id, which would otherwise take "conversations" for an id (and refuse it).
  router.get('/conversations/:userId', validate(karmyqListRules), karmyq.listConversations);
  router.post('/', requireJsonBody, validate(createConversationRules), karmyq.createConversation);
  router.get('/:id', validate(karmyqHistoryRules), karmyq.history);
  router.post('/:id/mark-read', validate(markReadRules), conversations.markRead);
  return router;
}
