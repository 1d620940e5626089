import type { Request, Response } from 'express';
import { matchedData } from 'express-validator';
import type { ChatServices } from '../../chat';
import { actorOf } from '../middleware/authenticate';

export function blockController(chat: ChatServices) {
  return {
    async block(req: Request, res: Response) {
      const { userId } = matchedData(req, { locations: ['params'] }) as { userId: string };
      res
        .status(201)
        .json({ success: true, data: await chat.blocks.block(actorOf(res), userId.toLowerCase()) });
    },
    async unblock(req: Request, res: Response) {
      const { userId } = matchedData(req, { locations: ['params'] }) as { userId: string };
      res.json({
        success: true,
        data: await chat.blocks.unblock(actorOf(res), userId.toLowerCase()),
      });
    },
    async list(_req: Request, res: Response) {
      res.json({ success: true, data: await chat.blocks.list(actorOf(res)) });
    },
  };
}
