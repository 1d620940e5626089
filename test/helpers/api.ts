import type { Express } from 'express';
import request, { type Response, type Test } from 'supertest';
import type { ChatEvents } from '../../src/chat/chat-events';
import type { ConversationView, MessageView } from '../../src/chat/types';
import type { buildTestApp } from './app';

export const CHAT = '/api/chat';

export interface FailureEnvelope {
  success: false;
  message: string;
  code?: string;
  errors?: Array<{ field: string; message: string }>;
}

export interface SuccessEnvelope<T> {
  success: true;
  data: T;
}

export interface ConversationListEnvelope extends SuccessEnvelope<ConversationView[]> {
  pagination: { limit: number; next_cursor: string | null; has_more: boolean };
}

/** Typed view of a supertest body (supertest types it as `any`). */
export function bodyOf<T>(res: Response): T {
  return res.body as T;
}

export const dataOf = <T>(res: Response): T => bodyOf<SuccessEnvelope<T>>(res).data;
export const conversationOf = (res: Response): ConversationView => dataOf<ConversationView>(res);
export const messagesOf = (res: Response): MessageView[] => dataOf<MessageView[]>(res);

/** Asserts the failure envelope `{success:false, message}` with the given status (and code). */
export function expectFailure(res: Response, status: number, code?: string): FailureEnvelope {
  expect(res.status).toBe(status);
  const body = bodyOf<FailureEnvelope>(res);
  expect(body.success).toBe(false);
  expect(typeof body.message).toBe('string');
  expect(body.message.length).toBeGreaterThan(0);
  if (code) expect(body.code).toBe(code);
  return body;
}

/** Requests under /api/chat as one user. */
export function client(app: Express, token: string) {
  const auth = (t: Test): Test => t.set('Authorization', `Bearer ${token}`);
  return {
    get: (path: string): Test => auth(request(app).get(`${CHAT}${path}`)),
    post: (path: string, body?: string | object): Test => {
      const t = auth(request(app).post(`${CHAT}${path}`));
      return body === undefined ? t : t.send(body);
    },
    delete: (path: string): Test => auth(request(app).delete(`${CHAT}${path}`)),
  };
}

export type ApiClient = ReturnType<typeof client>;

type Recorded = ReturnType<typeof buildTestApp>['events'][number];
type EventPayload<K extends keyof ChatEvents> = Parameters<ChatEvents[K]>[0];

/** The recorded domain events of one type, narrowed to its payload. */
export function eventsOf<K extends keyof ChatEvents>(
  events: Recorded[],
  type: K,
): Array<EventPayload<K>> {
  return events.filter((e) => e.type === type).map((e) => e.event as EventPayload<K>);
}

/** Matches an ISO-8601 UTC timestamp as `Date#toISOString` writes it. */
export const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
