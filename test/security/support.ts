import { Writable } from 'node:stream';
import request, { type Response, type Test } from 'supertest';
import { Block, Conversation, Message } from '../../models';
import { createLogger, type Logger } from '../../src/lib/logger';
import { userRoom } from '../../src/realtime/rooms';
import type { RunningServer } from '../../src/server';
import { bodyOf, CHAT, type FailureEnvelope } from '../helpers/api';
import type { ClientSocket, ConnectOptions } from '../helpers/realtime';
import { useRealtimeSuite } from '../helpers/realtime-suite';

/** What a refused handshake looks like on the client. */
export type ConnectError = Error & { data?: { code?: string; retry_after_ms?: number } };

export interface SecureServer {
  readonly server: RunningServer;
  /** A real socket, closed after each test. */
  connect(token: string | null, options?: ConnectOptions): Promise<ClientSocket>;
  /** Expects the handshake to be refused; returns the client's connect_error. */
  refused(token: string | null, options?: ConnectOptions): Promise<ConnectError>;
  /** supertest against the running server, as the holder of `token` (none when null). */
  as(token: string | null): RestClient;
  /** Sockets the server holds for a user (its personal room, every node). */
  socketsOf(userId: string): Promise<number>;
}

export interface RestClient {
  get(path: string): Test;
  post(path: string, body?: string | object): Test;
  delete(path: string): Test;
}

/**
 * One real server per describe block, built from env-style overrides exactly as
 * production parses them; sockets closed after each test, the server stopped after all.
 */
export function useSecureServer(
  overrides: Record<string, string> = {},
  logger: () => Logger = () => createLogger('silent'),
): SecureServer {
  const base = useRealtimeSuite(overrides, logger);
  const suite: SecureServer = {
    get server(): RunningServer {
      return base.server;
    },
    connect: (token, options) => base.connect(token, options),
    async refused(token, options) {
      return suite.connect(token, options).then(
        () => {
          throw new Error('handshake was accepted');
        },
        (err: ConnectError) => err,
      );
    },
    as(token) {
      const auth = (t: Test): Test => (token ? t.set('Authorization', `Bearer ${token}`) : t);
      const http = () => request(suite.server.http);
      return {
        get: (path) => auth(http().get(`${CHAT}${path}`)),
        post: (path, body) => {
          const t = auth(http().post(`${CHAT}${path}`));
          return body === undefined ? t : t.send(body);
        },
        delete: (path) => auth(http().delete(`${CHAT}${path}`)),
      };
    },
    async socketsOf(userId) {
      return (await suite.server.realtime.io.in(userRoom(userId)).fetchSockets()).length;
    },
  };
  return suite;
}

/** Asserts the REST refusal envelope `{success:false, message, code}`. */
export function expectEnvelope(res: Response, status: number, code?: string): FailureEnvelope {
  const body = bodyOf<FailureEnvelope>(res);
  expect({ status: res.status, success: body.success }).toEqual({ status, success: false });
  expect(typeof body.message).toBe('string');
  expect(body.message.length).toBeGreaterThan(0);
  if (code !== undefined) expect(body.code).toBe(code);
  return body;
}

/** How many documents each collection the service writes holds. */
export async function storedCounts(): Promise<{
  messages: number;
  conversations: number;
  blocks: number;
}> {
  const [messages, conversations, blocks] = await Promise.all([
    Message.countDocuments(),
    Conversation.countDocuments(),
    Block.countDocuments(),
  ]);
  return { messages, conversations, blocks };
}

/** Every document the service writes, serialised: equal snapshots mean nothing was written. */
export async function storedState(): Promise<string> {
  const [messages, conversations, blocks] = await Promise.all([
    Message.find().sort({ _id: 1 }).lean(),
    Conversation.find().sort({ _id: 1 }).lean(),
    Block.find().sort({ _id: 1 }).lean(),
  ]);
  return JSON.stringify({ messages, conversations, blocks });
}

/** A pino logger configured like production's, writing into memory. */
export function captureLogs(level: string): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  return { logger: createLogger(level, sink), lines };
}

/** Whether `({}).polluted` (or any probe key) leaked onto Object.prototype. */
export function prototypeIsClean(): boolean {
  const probe = {} as Record<string, unknown>;
  return probe.polluted === undefined && probe.isAdmin === undefined;
}

/** Collects unhandled promise rejections while the enclosing describe block runs. */
export function watchUnhandledRejections(): unknown[] {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  beforeAll(() => process.on('unhandledRejection', onRejection));
  afterAll(() => process.off('unhandledRejection', onRejection));
  return rejections;
}
