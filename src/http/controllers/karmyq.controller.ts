import type { Request, Response } from 'express';
import { matchedData } from 'express-validator';
import type { ChatServices } from '../../chat';
import { toKarmyqConversationView, toKarmyqMessageView } from '../../chat/presenters';
import { assertClaimedUser } from '../../chat/rules';
import { actorOf } from '../middleware/authenticate';
import {
  KARMYQ_LIST_LIMIT_DEFAULT,
  KARMYQ_PAGE_LIMIT_DEFAULT,
} from '../validators/karmyq.validators';
import { getOrCreateFromBody, sendConversationPage } from './conversation.controller';

/**
 * Karmyq's REST paths, answered in its shapes by the same services as /api/chat.
 * Mark-read needs nothing of its own (conversationController.markRead).
 */
export function karmyqController(chat: ChatServices) {
  return {
    /** GET /messages/conversations/:userId: the caller's own conversations only. */
    async listConversations(req: Request, res: Response) {
      const { userId, limit, cursor } = matchedData(req) as {
        userId: string;
        limit?: number;
        cursor?: string;
      };
      assertClaimedUser(userId, actorOf(res).id, 'userId');
      await sendConversationPage(
        chat,
        res,
        { limit: limit ?? KARMYQ_LIST_LIMIT_DEFAULT, cursor },
        toKarmyqConversationView,
      );
    },

    /** GET /messages/:id?limit&offset: oldest first within the page, `total` live messages. */
    async history(req: Request, res: Response) {
      const { id, limit, offset } = matchedData(req) as {
        id: string;
        limit?: number;
        offset?: number;
      };
      const page = await chat.messages.readHistory(
        actorOf(res),
        id,
        { offset: offset ?? 0, limit: limit ?? KARMYQ_PAGE_LIMIT_DEFAULT },
        { withTotal: true },
      );
      res.json({
        success: true,
        data: {
          messages: page.messages.map((m) => toKarmyqMessageView(m, page.senderOf(m))),
          total: page.total,
        },
      });
    },

    /** POST /messages `{request_match_id, participant_ids}`: get-or-create, as /api/chat. */
    async createConversation(req: Request, res: Response) {
      const { conversation, created } = await getOrCreateFromBody(chat, req, res);
      res
        .status(created ? 201 : 200)
        .json({ success: true, data: toKarmyqConversationView(conversation), created });
    },
  };
}
