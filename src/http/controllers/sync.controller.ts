import type { Request, Response } from 'express';
import { matchedData } from 'express-validator';
import type { ChatServices } from '../../chat';
import { SYNC_LIMIT_DEFAULT } from '../../chat/sync.service';
import { actorOf } from '../middleware/authenticate';

export function syncController(chat: ChatServices) {
  return {
    /** GET /api/chat/sync?since=<cursor>: what changed while the client was away. */
    async sync(req: Request, res: Response) {
      const { since, limit } = matchedData(req, { locations: ['query'] }) as {
        since?: string;
        limit?: number;
      };
      const data = await chat.sync.sync(actorOf(res), {
        since,
        limit: limit ?? SYNC_LIMIT_DEFAULT,
      });
      res.json({ success: true, data });
    },
  };
}
