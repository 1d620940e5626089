import type { Request, Response } from 'express';
import { matchedData } from 'express-validator';
import type { ChatServices, ConversationView } from '../../chat';
import { assertClaimedUser, LIST_LIMIT_DEFAULT } from '../../chat/rules';
import { actorOf } from '../middleware/authenticate';

/**
 * POST /api/chat/conversations and Karmyq's POST /messages: `{recipient_id}` or
 * `{participant_ids}`, with the listing under any of its names. The caller is
 * always a participant, whatever the body lists.
 */
export function getOrCreateFromBody(chat: ChatServices, req: Request, res: Response) {
  const input = matchedData(req, { locations: ['body'] }) as {
    recipient_id?: string;
    participant_ids?: string[];
    listing_id?: string | null;
    horse_id?: string | null;
    request_match_id?: string | null;
  };
  const participantIds = [
    ...(input.participant_ids ?? []),
    ...(input.recipient_id ? [input.recipient_id] : []),
  ];
  const listingId = input.listing_id ?? input.horse_id ?? input.request_match_id ?? null;
  return chat.conversations.getOrCreate(actorOf(res), {
    participantIds: participantIds.map((id) => id.toLowerCase()),
    listingId,
  });
}

/**
 * One page of the caller's conversation list, answered with its pagination, each
 * conversation in the dialect's shape (GET /api/chat/conversations and Karmyq's list).
 */
export async function sendConversationPage<View>(
  chat: ChatServices,
  res: Response,
  page: { limit: number; cursor?: string },
  present: (conversation: ConversationView) => View,
): Promise<void> {
  const { conversations, nextCursor } = await chat.conversations.list(actorOf(res), page);
  res.json({
    success: true,
    data: conversations.map(present),
    pagination: { limit: page.limit, next_cursor: nextCursor, has_more: nextCursor !== null },
  });
}

export function conversationController(chat: ChatServices) {
  return {
    async create(req: Request, res: Response) {
      const { conversation, created } = await getOrCreateFromBody(chat, req, res);
      res.status(created ? 201 : 200).json({ success: true, data: conversation, created });
    },

    async list(req: Request, res: Response) {
      const { limit, cursor } = matchedData(req, { locations: ['query'] }) as {
        limit?: number;
        cursor?: string;
      };
      await sendConversationPage(
        chat,
        res,
        { limit: limit ?? LIST_LIMIT_DEFAULT, cursor },
        (conversation) => conversation,
      );
    },

    async get(req: Request, res: Response) {
      const { id } = matchedData(req, { locations: ['params'] }) as { id: string };
      res.json({ success: true, data: await chat.conversations.get(actorOf(res), id) });
    },

    async markRead(req: Request, res: Response) {
      const { id, user_id } = matchedData(req) as { id: string; user_id?: string };
      const actor = actorOf(res);
      assertClaimedUser(user_id, actor.id, 'user_id');
      res.json({ success: true, data: await chat.reads.markAllRead(actor, id) });
    },

    async unreadCount(_req: Request, res: Response) {
      const unreadCount = await chat.reads.totalUnread(actorOf(res));
      res.json({ success: true, unread_count: unreadCount, data: { unread_count: unreadCount } });
    },

    async addParticipants(req: Request, res: Response) {
      const { id, user_id, user_ids } = matchedData(req) as {
        id: string;
        user_id?: string;
        user_ids?: string[];
      };
      const ids = [...(user_ids ?? []), ...(user_id ? [user_id] : [])].map((v) => v.toLowerCase());
      res.json({
        success: true,
        data: await chat.conversations.addParticipants(actorOf(res), id, ids),
      });
    },

    async removeParticipant(req: Request, res: Response) {
      const { id, userId } = matchedData(req, { locations: ['params'] }) as {
        id: string;
        userId: string;
      };
      res.json({
        success: true,
        data: await chat.conversations.removeParticipant(actorOf(res), id, userId.toLowerCase()),
      });
    },
  };
}
