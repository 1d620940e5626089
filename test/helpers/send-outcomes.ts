import request from 'supertest';
import type { MessageView } from '../../src/chat/types';
import type { AckBody } from '../../src/realtime/contract';
import type { FailureBody } from '../../src/lib/errors';
import type { ClientSocket } from './realtime';

/**
 * What a client learns from one send attempt, over REST or a socket. Fault tests
 * classify every attempt: a success must be stored, a refusal must say whether to
 * retry, and a connection error leaves the client to retry with the same id.
 */
export type SendOutcome = { via: 'rest' | 'socket'; ms: number } & (
  | { kind: 'stored'; message: MessageView; status?: number }
  | { kind: 'refused'; body: FailureBody; status?: number; retryAfter?: string }
  | { kind: 'connection-error'; error: string }
);

export interface SendInput {
  conversation_id: string;
  text: string;
  client_message_id?: string;
}

/** POST …/messages; any HTTP answer is an outcome, a failed or timed-out request too. */
export async function sendOverRest(
  url: string,
  token: string,
  input: SendInput,
  timeoutMs = 10000,
): Promise<SendOutcome> {
  const started = Date.now();
  const { conversation_id: conversationId, ...body } = input;
  try {
    const res = await request(url)
      .post(`/api/chat/conversations/${conversationId}/messages`)
      .set('Authorization', `Bearer ${token}`)
      .send(body)
      .timeout(timeoutMs);
    const ms = Date.now() - started;
    if (res.status === 200 || res.status === 201) {
      return {
        via: 'rest',
        ms,
        kind: 'stored',
        status: res.status,
        message: (res.body as { data: MessageView }).data,
      };
    }
    return {
      via: 'rest',
      ms,
      kind: 'refused',
      status: res.status,
      body: res.body as FailureBody,
      retryAfter: res.headers['retry-after'] as string | undefined,
    };
  } catch (err) {
    return {
      via: 'rest',
      ms: Date.now() - started,
      kind: 'connection-error',
      error: describe(err),
    };
  }
}

/** send_message with an ack; a missing ack (timeout, disconnect) is a connection error. */
export async function sendOverSocket(
  socket: ClientSocket,
  input: SendInput,
  timeoutMs = 10000,
): Promise<SendOutcome> {
  const started = Date.now();
  try {
    const ack = (await socket.timeout(timeoutMs).emitWithAck('send_message', input)) as AckBody;
    const ms = Date.now() - started;
    return ack.success
      ? { via: 'socket', ms, kind: 'stored', message: ack.data as MessageView }
      : { via: 'socket', ms, kind: 'refused', body: ack };
  } catch (err) {
    return {
      via: 'socket',
      ms: Date.now() - started,
      kind: 'connection-error',
      error: describe(err),
    };
  }
}

/** A refusal the client may retry unchanged (503 / retryable ack). */
export function isRetryableRefusal(outcome: SendOutcome): boolean {
  return outcome.kind === 'refused' && outcome.body.retryable === true;
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
