import { createConversation, createUsers } from '../factories';
import {
  connectClient,
  emitAck,
  nextEvent,
  record,
  settle,
  startTestServer,
  type ClientSocket,
} from '../helpers/realtime';
import type { RunningServer } from '../../src/server';

describe('realtime smoke', () => {
  let server: RunningServer;
  const sockets: ClientSocket[] = [];
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterEach(() => {
    sockets.splice(0).forEach((s) => s.close());
  });
  afterAll(async () => {
    await server.stop();
  });

  it('delivers a socket send to the room and a notification to the other participant', async () => {
    const [a, b, outsider] = await createUsers(3);
    const conv = await createConversation([a, b]);
    const sa = await connectClient(server.url, a.token);
    const sb = await connectClient(server.url, b.token);
    const so = await connectClient(server.url, outsider.token);
    sockets.push(sa, sb, so);
    expect(await emitAck(sa, 'join_conversation', conv)).toEqual({
      success: true,
      data: { conversation_id: conv },
    });
    const outsiderJoin = await emitAck(so, 'join_conversation', conv);
    expect(outsiderJoin.success).toBe(false);
    const outsiderSaw = record(so, 'new_message');
    const notified = nextEvent(sb, 'message_notification');
    const echoed = nextEvent(sa, 'new_message');
    const ack = await emitAck(sa, 'send_message', {
      conversation_id: conv,
      text: 'Hello, is this horse still available?',
    });
    expect(ack.success).toBe(true);
    expect(await notified).toMatchObject({
      conversation_id: conv,
      sender: a.id,
      preview: 'Hello, is this horse still available?',
    });
    expect(await echoed).toMatchObject({
      text: 'Hello, is this horse still available?',
      sender_id: { _id: a.id },
    });
    await settle();
    expect(outsiderSaw).toHaveLength(0);
  });

  it('refuses a handshake without a token', async () => {
    await expect(connectClient(server.url, null)).rejects.toThrow(/Authentication required/);
  });
});
