import type { Express } from 'express';
import type { SyncResult } from '../../src/chat/sync.service';
import type { MessageView } from '../../src/chat/types';
import type { TestUser } from '../factories';
import { client, dataOf, type ApiClient } from './api';

/**
 * Sync cursors are conservative within the current millisecond (a change stamped
 * in it may still be on its way): let the clock move past the arranged writes.
 */
export const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 3));

/** GET /api/chat/sync, asserting 200. */
export async function sync(api: ApiClient, since?: string, limit?: number): Promise<SyncResult> {
  const query = new URLSearchParams();
  if (since !== undefined) query.set('since', since);
  if (limit !== undefined) query.set('limit', String(limit));
  const res = await api.get(`/sync?${query.toString()}`);
  expect(res.status).toBe(200);
  return dataOf<SyncResult>(res);
}

/** A cursor that follows from now: everything written so far is behind it. */
export async function cursorNow(api: ApiClient): Promise<string> {
  await settle();
  return (await sync(api)).cursor;
}

/** POST a message as `user`, asserting 201. */
export async function sendAs(
  app: Express,
  user: TestUser,
  conversationId: string,
  text: string,
): Promise<MessageView> {
  const res = await client(app, user.token).post(`/conversations/${conversationId}/messages`, {
    text,
  });
  expect(res.status).toBe(201);
  return dataOf<MessageView>(res);
}
