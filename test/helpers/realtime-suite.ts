import request, { type Test } from 'supertest';
import type { KarmyqMessageView, MessageView } from '../../src/chat/types';
import type { FailureBody } from '../../src/lib/errors';
import type { AckBody } from '../../src/realtime/contract';
import type { Logger } from '../../src/lib/logger';
import type { RunningServer } from '../../src/server';
import { createConversation, createUsers, type TestUser } from '../factories';
import {
  connectClient,
  emitAck,
  type ClientSocket,
  type ConnectOptions,
  startTestServer,
} from './realtime';

/** How long to wait before asserting that an event did NOT arrive. */
export const QUIET_MS = 150;

export const OBJECT_ID = /^[0-9a-f]{24}$/;

/** An ISO-8601 UTC timestamp as `Date#toISOString` writes it. */
export const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export interface RealtimeSuite {
  readonly server: RunningServer;
  /** Connects (and closes in afterEach) a real socket.io-client socket. */
  connect(token: string | null, options?: ConnectOptions): Promise<ClientSocket>;
  /** supertest against the running server, as `user`. */
  rest(user: TestUser): RestClient;
}

export interface RestClient {
  get(path: string): Test;
  post(path: string, body?: object): Test;
  delete(path: string): Test;
}

/** One server per test file, every socket closed after each test, the server stopped after all. */
export function useRealtimeSuite(
  overrides: Record<string, string> = {},
  logger?: () => Logger,
): RealtimeSuite {
  let running: RunningServer | undefined;
  const sockets: ClientSocket[] = [];
  beforeAll(async () => {
    running = await startTestServer(overrides, logger?.());
  });
  afterEach(() => {
    sockets.splice(0).forEach((s) => s.close());
  });
  afterAll(async () => {
    await running?.stop();
  });
  const suite: RealtimeSuite = {
    get server(): RunningServer {
      if (!running) throw new Error('server not started');
      return running;
    },
    async connect(token, options) {
      const socket = await connectClient(suite.server.url, token, options);
      sockets.push(socket);
      return socket;
    },
    rest(user) {
      const auth = (t: Test): Test => t.set('Authorization', `Bearer ${user.token}`);
      const base = `/api/chat`;
      return {
        get: (path) => auth(request(suite.server.http).get(`${base}${path}`)),
        post: (path, body) => {
          const t = auth(request(suite.server.http).post(`${base}${path}`));
          return body === undefined ? t : t.send(body);
        },
        delete: (path) => auth(request(suite.server.http).delete(`${base}${path}`)),
      };
    },
  };
  return suite;
}

/** Two participants (a, b) in one conversation and an outsider, each with one connected socket. */
export interface Trio {
  a: TestUser;
  b: TestUser;
  outsider: TestUser;
  conv: string;
  sa: ClientSocket;
  sb: ClientSocket;
  so: ClientSocket;
}

export async function trio(suite: RealtimeSuite): Promise<Trio> {
  const [a, b, outsider] = await createUsers(3);
  const conv = await createConversation([a, b]);
  const [sa, sb, so] = await Promise.all([a, b, outsider].map((u) => suite.connect(u.token)));
  return { a, b, outsider, conv, sa, sb, so };
}

/** Joins the Horse Trust way (a bare id) and asserts the ack. */
export async function joinHorseTrust(socket: ClientSocket, conv: string): Promise<void> {
  expect(await emitAck(socket, 'join_conversation', conv)).toEqual({
    success: true,
    data: { conversation_id: conv },
  });
}

/** Joins the Karmyq way (`{conversation_id, user_id}`) and asserts the ack. */
export async function joinKarmyq(
  socket: ClientSocket,
  conv: string,
  userId: string,
): Promise<void> {
  const ack = await emitAck(socket, 'join_conversation', {
    conversation_id: conv,
    user_id: userId,
  });
  expect(ack).toEqual({ success: true, data: { conversation_id: conv } });
}

/** Asserts a refusal ack `{success:false, message}` with a non-empty message; returns it. */
export function expectRefused(ack: AckBody, message?: string | RegExp): FailureBody {
  expect(ack.success).toBe(false);
  const failure = ack as FailureBody;
  expect(typeof failure.message).toBe('string');
  expect(failure.message.length).toBeGreaterThan(0);
  if (message !== undefined) expect(failure.message).toMatch(message);
  return failure;
}

export interface Received {
  event: string;
  args: unknown[];
}

/** Records every event a socket receives, whatever its name. */
export function recordAll(socket: ClientSocket): Received[] {
  const seen: Received[] = [];
  socket.onAny((event: string, ...args: unknown[]) => {
    // Connection state recovery appends the session offset (a string) to room broadcasts,
    // and an acknowledgeable event ends with its ack callback: neither is payload.
    const payload = args.filter((arg) => typeof arg !== 'function');
    if (payload.length > 1 && typeof payload[payload.length - 1] === 'string') payload.pop();
    seen.push({ event, args: payload });
  });
  return seen;
}

/** The names of the recorded events (readable in a failing assertion). */
export const namesOf = (seen: Received[]): string[] => seen.map((r) => r.event);

export function isHorseTrust(message: MessageView | KarmyqMessageView): message is MessageView {
  return 'text' in message;
}

export function isKarmyq(message: MessageView | KarmyqMessageView): message is KarmyqMessageView {
  return 'content' in message;
}

/** The Horse Trust shape of a message as new_message and the ack carry it (sender populated). */
export function horseTrustMessage(fields: {
  conv: string;
  sender: TestUser;
  text: string;
  seq: number;
}): object {
  return {
    _id: expect.stringMatching(OBJECT_ID),
    conversation_id: fields.conv,
    sender_id: {
      _id: fields.sender.id,
      full_name: fields.sender.full_name,
      profile_picture_url: fields.sender.actor.profile.profile_picture_url,
    },
    text: fields.text,
    is_read: false,
    read_at: null,
    sent_at: expect.stringMatching(ISO_DATE),
    seq: fields.seq,
    status: 'sent',
  };
}
