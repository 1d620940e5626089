import type { Request, Response } from 'express';
import { matchedData } from 'express-validator';
import type { ChatServices } from '../../chat';
import type { HistoryWindow } from '../../chat/message.service';
import { toMessageView } from '../../chat/presenters';
import { PAGE_LIMIT_DEFAULT } from '../../chat/rules';
import { actorOf } from '../middleware/authenticate';

export function messageController(chat: ChatServices) {
  return {
    /** Seed: GET /conversations/:id/messages?page=1&limit=30, oldest first; or ?before= / ?after= a seq. */
    async history(req: Request, res: Response) {
      const q = matchedData(req) as {
        id: string;
        page?: number;
        limit?: number;
        before?: number;
        after?: number;
      };
      const limit = q.limit ?? PAGE_LIMIT_DEFAULT;
      const window: HistoryWindow =
        q.before !== undefined
          ? { before: q.before, limit }
          : q.after !== undefined
            ? { after: q.after, limit }
            : { page: q.page ?? 1, limit };
      res.json({ success: true, data: await chat.messages.history(actorOf(res), q.id, window) });
    },

    /** Seed: POST /conversations/:id/messages → 201 with sender_id as the id string. */
    async send(req: Request, res: Response) {
      const { id, text, client_message_id } = matchedData(req) as {
        id: string;
        text: string;
        client_message_id?: string | null;
      };
      const result = await chat.messages.send(actorOf(res), id, {
        text,
        clientMessageId: client_message_id,
      });
      // A replayed client_message_id is not a new resource: 200 with the original.
      res
        .status(result.created ? 201 : 200)
        .json({ success: true, data: toMessageView(result.record) });
    },

    async remove(req: Request, res: Response) {
      const { id, messageId } = matchedData(req, { locations: ['params'] }) as {
        id: string;
        messageId: string;
      };
      res.json({ success: true, data: await chat.messages.remove(actorOf(res), id, messageId) });
    },
  };
}
