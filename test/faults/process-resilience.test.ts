import { MAX_FRAME_BYTES } from '../../src/realtime';
import request from 'supertest';
import type { Socket } from 'socket.io-client';
import { Message } from '../../models';
import { createConversation, createUsers, type TestUser } from '../factories';
import {
  CLIENT_EVENTS,
  badForEveryEvent,
  badSends,
  badUnlessLeaving,
} from '../helpers/bad-payloads';
import { connectClient, emitAck, nextEvent, settle, type ClientSocket } from '../helpers/realtime';
import {
  logMessage,
  startServiceProcess,
  type LogLine,
  type ServiceProcess,
} from '../helpers/service-process';

/**
 * Bad input against a real service process: malformed payloads sent without an
 * ack, oversized frames and unparseable packets. The process must stay up, close
 * at most the offending socket, keep serving everyone else, and never report an
 * escaped error (its unhandledRejection / uncaughtException handlers log them).
 *
 * Not covered: making the process hit `unhandledRejection` on purpose. Every
 * promise the public surface can start is awaited or caught (REST through
 * Express 5, socket events through onEvent), so no request or event reaches that
 * handler; the tests check instead that it never fires.
 */

/** Lines that mean an error escaped its handler, or a handler failed unexpectedly. */
function escapedErrors(logs: LogLine[]): string[] {
  return logs
    .filter(
      (line) =>
        ['uncaught exception', 'unhandled promise rejection', 'socket handler failed'].includes(
          logMessage(line),
        ) || /Unhandled|UnhandledPromiseRejection|uncaught/i.test(line.raw),
    )
    .map((line) => line.raw);
}

function disconnection(socket: ClientSocket, ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!socket.connected) return resolve('already disconnected');
    const timer = setTimeout(() => reject(new Error('socket was not disconnected')), ms);
    socket.once('disconnect', (reason) => {
      clearTimeout(timer);
      resolve(reason);
    });
  });
}

describe('process resilience: bad input never takes the process down', () => {
  let service: ServiceProcess;
  const sockets: ClientSocket[] = [];
  let a: TestUser, b: TestUser, outsider: TestUser, conv: string;

  const open = async (user: TestUser, join = true): Promise<ClientSocket> => {
    const socket = await connectClient(service.url, user.token);
    sockets.push(socket);
    if (join) {
      expect(await emitAck(socket, 'join_conversation', conv)).toMatchObject({ success: true });
    }
    return socket;
  };
  /** A valid send from `from`, seen live by `to`: the service still does its job. */
  const stillServes = async (from: ClientSocket, to: ClientSocket, text: string) => {
    const seen = nextEvent(to, 'new_message', 5000);
    const ack = await emitAck(from, 'send_message', { conversation_id: conv, text });
    expect(ack).toMatchObject({ success: true });
    expect(await seen).toMatchObject({ text });
  };

  beforeAll(async () => {
    service = await startServiceProcess();
  }, 40000);
  afterAll(async () => {
    await service?.stop();
  });
  beforeEach(async () => {
    [a, b, outsider] = await createUsers(3);
    conv = await createConversation([a, b]);
  });
  afterEach(() => {
    sockets.splice(0).forEach((socket) => socket.close());
  });

  it('shrugs off malformed payloads for every event sent without an ack, and keeps serving', async () => {
    const sa = await open(a);
    const sb = await open(b);
    const foreignConv = await createConversation([b, outsider]);
    const ids = { conv, self: a.id, other: b.id, foreignConv };
    const untyped = sa as unknown as Socket;
    const logsBefore = service.logs.length;

    let emitted = 0;
    for (const event of CLIENT_EVENTS) {
      const cases = [
        ...badForEveryEvent(ids),
        ...(event === 'leave_conversation' ? [] : badUnlessLeaving(ids)),
        ...(event === 'send_message' ? badSends(ids) : []),
      ];
      for (const { payload } of cases) {
        sa.emit(event, payload);
        // Extra arguments, none of them an ack: the handler must not call one.
        untyped.emit(event, payload, 'not an ack', 42);
        emitted += 2;
      }
      untyped.emit(event);
    }
    for (const name of ['no_such_event', 'constructor', 'hasOwnProperty', 'toString']) {
      untyped.emit(name, { conversation_id: conv, text: 'hi' });
    }
    await settle(500);

    expect(emitted).toBeGreaterThan(500);
    expect(sa.connected).toBe(true);
    await stillServes(sa, sb, 'still here');
    expect(await Message.countDocuments({})).toBe(1);
    expect((await request(service.url).get('/health')).status).toBe(200);
    expect(service.running).toBe(true);
    expect(escapedErrors(service.logs.slice(logsBefore))).toEqual([]);
  });

  it('takes the largest valid send within the frame limit: 2,000 characters that JSON escapes to six bytes each', async () => {
    const sa = await open(a);
    const text = `a${'\u0001'.repeat(1998)}z`;
    const ack = await emitAck(sa, 'send_message', {
      conversation_id: conv,
      text,
      client_message_id: 'c'.repeat(64),
    });
    expect(ack).toMatchObject({ success: true, data: { text } });
    expect(sa.connected).toBe(true);
  });

  it('closes only the socket that sends a frame over maxHttpBufferSize', async () => {
    const sa = await open(a);
    const sb = await open(b);
    const logsBefore = service.logs.length;

    const closed = disconnection(sa);
    sa.emit('send_message', {
      conversation_id: conv,
      text: 'x'.repeat(MAX_FRAME_BYTES + 1024),
    });
    const reason = await closed;

    expect(reason).toMatch(/transport (close|error)/);
    expect(sb.connected).toBe(true);
    const again = await open(a);
    await stillServes(again, sb, 'after the oversized frame');
    await stillServes(sb, again, 'and back');
    expect(await Message.countDocuments({})).toBe(2);
    expect(service.running).toBe(true);
    expect(escapedErrors(service.logs.slice(logsBefore))).toEqual([]);
  });

  it('closes only the socket that sends unparseable packets', async () => {
    const sb = await open(b);
    const logsBefore = service.logs.length;
    // Socket.IO packets written straight onto the Engine.IO connection.
    const frames: Array<{ label: string; frames: Array<string | Buffer> }> = [
      { label: 'broken JSON', frames: ['2["send_message",{"conversation_id":'] },
      { label: 'an event that is not an array', frames: ['2{"send_message":1}'] },
      { label: 'an event name that is not a string', frames: ['2[{"a":1},"x"]'] },
      { label: 'an unknown packet type', frames: ['9["send_message"]'] },
      {
        label: 'a binary placeholder pointing past its attachments',
        frames: ['51-["send_message",{"_placeholder":true,"num":7}]', Buffer.from([1, 2, 3])],
      },
    ];

    const reasons: Record<string, string> = {};
    for (const { label, frames: packets } of frames) {
      const socket = await open(a, false);
      const closed = disconnection(socket);
      for (const packet of packets) socket.io.engine.write(packet);
      reasons[label] = await closed;
    }

    expect(Object.keys(reasons)).toHaveLength(frames.length);
    expect(sb.connected).toBe(true);
    const sa = await open(a);
    await stillServes(sa, sb, 'after the garbage');
    expect(service.running).toBe(true);
    expect((await request(service.url).get('/health')).status).toBe(200);
    expect(escapedErrors(service.logs.slice(logsBefore))).toEqual([]);
  });

  it('answers REST garbage with 4xx and stays up', async () => {
    const logsBefore = service.logs.length;
    const path = `/api/chat/conversations/${conv}/messages`;
    const auth = { Authorization: `Bearer ${a.token}` };

    const answers = [
      await request(service.url).post(path).set(auth).type('json').send('{"text":'),
      await request(service.url)
        .post(path)
        .set(auth)
        .send({ text: 'x'.repeat(40 * 1024) }),
      await request(service.url)
        .post(path)
        .set(auth)
        .send({ text: { $gt: '' } }),
      await request(service.url).post('/api/chat/conversations/%E0%A4%A/messages').set(auth),
      await request(service.url).get('/socket.io/?EIO=3&transport=polling'),
      await request(service.url).post('/socket.io/?EIO=4&transport=polling&sid=nope').send('x'),
    ];

    expect(answers.map((res) => res.status >= 400 && res.status < 500)).toEqual(
      answers.map(() => true),
    );
    expect((await request(service.url).get('/health')).status).toBe(200);
    expect(service.running).toBe(true);
    expect(escapedErrors(service.logs.slice(logsBefore))).toEqual([]);
  });
});
