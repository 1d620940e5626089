import type { Socket } from 'socket.io-client';
import { Message } from '../../models';
import { createConversation, createUsers } from '../factories';
import { emitAck } from '../helpers/realtime';
import { joinHorseTrust, useRealtimeSuite } from '../helpers/realtime-suite';

/**
 * What a connection costs the server in listeners: every socket shares one
 * event dispatcher and one disconnect handler (src/realtime/ack.ts), so that a
 * connection holds no closures of its own (npm run bench, memory per connection).
 */
describe('per-socket listeners', () => {
  const suite = useRealtimeSuite();

  it('registers one shared dispatcher and one shared disconnect handler per socket', async () => {
    const [a, b] = await createUsers(2);
    await Promise.all([suite.connect(a.token), suite.connect(b.token)]);
    const serverSockets = [...suite.server.realtime.io.sockets.sockets.values()];
    expect(serverSockets.length).toBeGreaterThanOrEqual(2);

    for (const socket of serverSockets) {
      expect(socket.listenersAny()).toHaveLength(1);
      expect(socket.listeners('disconnect')).toHaveLength(1);
      // 'error' is Socket.IO's own listener; no client event has one of its own.
      expect(socket.eventNames().sort()).toEqual(['disconnect', 'error']);
    }
    // The same functions for every socket, not one closure each.
    const [first, ...rest] = serverSockets;
    for (const socket of rest) {
      expect(socket.listenersAny()[0]).toBe(first.listenersAny()[0]);
      expect(socket.listeners('disconnect')[0]).toBe(first.listeners('disconnect')[0]);
    }
  });

  it('answers an unknown event that asks for an ack with a failure, and keeps answering the known ones', async () => {
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);
    const socket = await suite.connect(a.token);
    // Untyped: these event names are outside the contract on purpose.
    const raw = socket as unknown as Socket;
    const refusal = { success: false, message: 'Unknown event', code: 'ROUTE_NOT_FOUND' };

    for (const event of ['no_such_event', 'toString', 'constructor', '__proto__']) {
      expect(await raw.timeout(2000).emitWithAck(event, { conversation_id: conv })).toEqual(
        refusal,
      );
    }
    raw.emit('toString', 'x');
    raw.emit('constructor', 'x');

    await joinHorseTrust(socket, conv);
    const sent = await emitAck(socket, 'send_message', {
      conversation_id: conv,
      text: 'still here',
    });
    expect(sent.success).toBe(true);
    expect(await Message.countDocuments({ conversation_id: conv })).toBe(1);
  });
});
