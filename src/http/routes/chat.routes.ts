import { Router, type RequestHandler } from 'express';
import type { ChatServices } from '../../chat';
import { blockController } from '../controllers/block.controller';
import { conversationController } from '../controllers/conversation.controller';
import { messageController } from '../controllers/message.controller';
import { syncController } from '../controllers/sync.controller';
import { requireJsonBody } from '../middleware/request-shape';
import { validate } from '../middleware/validate';
import {
  conversationIdRules,
  markReadRules,
  createConversationRules,
  listConversationsRules,
  participantsRules,
  removeParticipantRules,
} from '../validators/conversation.validators';
import {
  deleteMessageRules,
  historyRules,
  sendMessageRules,
} from '../validators/message.validators';
import { syncRules } from '../validators/sync.validators';
import { objectIdParam } from '../validators/common.validators';

/** Every /api/chat route: route → validate → controller → service. */
export function chatRoutes(chat: ChatServices, authenticate: RequestHandler[]): Router {
  const router = Router();
  const conversations = conversationController(chat);
  const messages = messageController(chat);
  const sync = syncController(chat);
  const blocks = blockController(chat);
  router.use(authenticate);

  router.post(
    '/conversations',
    requireJsonBody,
    validate(createConversationRules),
    conversations.create,
  );
  router.get('/conversations', validate(listConversationsRules), conversations.list);
  router.get('/conversations/:id', validate(conversationIdRules), conversations.get);
  router.get('/conversations/:id/messages', validate(historyRules), messages.history);
  router.post(
    '/conversations/:id/messages',
    requireJsonBody,
    validate(sendMessageRules),
    messages.send,
  );
  router.delete(
    '/conversations/:id/messages/:messageId',
    validate(deleteMessageRules),
    messages.remove,
  );
  router.post('/conversations/:id/read', validate(markReadRules), conversations.markRead);
  router.post('/conversations/:id/mark-read', validate(markReadRules), conversations.markRead);
  router.post(
    '/conversations/:id/participants',
    requireJsonBody,
    validate(participantsRules),
    conversations.addParticipants,
  );
  router.delete(
    '/conversations/:id/participants/:userId',
    validate(removeParticipantRules),
    conversations.removeParticipant,
  );
  router.get('/unread-count', conversations.unreadCount);
  router.get('/sync', validate(syncRules), sync.sync);
  router.get('/blocks', blocks.list);
  router.post('/blocks/:userId', validate([objectIdParam('userId')]), blocks.block);
  router.delete('/blocks/:userId', validate([objectIdParam('userId')]), blocks.unblock);
  return router;
}
