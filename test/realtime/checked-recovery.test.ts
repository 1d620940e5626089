import { io as connect } from 'socket.io-client';
import type { MessageView } from '../../src/chat/types';
import type { ChatSocket } from '../../src/realtime/socket-types';
import { createConversation, createUsers, type TestUser } from '../factories';
import {
  emitAck,
  nextEvent,
  record,
  settle,
  waitFor,
  type ClientSocket,
} from '../helpers/realtime';
import {
  QUIET_MS,
  expectRefused,
  joinHorseTrust,
  useRealtimeSuite,
} from '../helpers/realtime-suite';
import { tokenFor } from '../helpers/tokens';

/** What socket.io-client presents when it reconnects (it keeps both here). */
interface RecoveryState {
  _pid: string;
  _lastOffset: string;
}

/**
 * Connection state recovery gives a socket back only what its user may have now:
 * the rooms of conversations it still takes part in, and their missed packets.
 */
describe('connection state recovery, checked', () => {
  const suite = useRealtimeSuite({ REAUTH_GRACE_MS: '5000', JWT_CLOCK_TOLERANCE_SEC: '0' });
  const opened: ClientSocket[] = [];
  afterEach(() => opened.splice(0).forEach((s) => s.close()));

  /** A socket that reconnects by itself, joined to `conv`, that has seen one broadcast. */
  async function reconnectingMember(user: TestUser, conv: string, token = user.token) {
    const socket: ClientSocket = connect(suite.server.url, {
      auth: { token },
      transports: ['websocket'],
      reconnectionDelay: 50,
      forceNew: true,
    });
    opened.push(socket);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    await joinHorseTrust(socket, conv);
    return socket;
  }

  async function sendAs(sender: ClientSocket, conv: string, text: string) {
    const ack = await emitAck(sender, 'send_message', { conversation_id: conv, text });
    expect(ack.success).toBe(true);
    return (ack.success ? ack.data : null) as MessageView;
  }

  it('gives a user removed while away the removal notice, and nothing of the conversation', async () => {
    const [a, b, c] = await createUsers(3);
    const conv = await createConversation([a, b, c]);
    const sa = await suite.connect(a.token);
    const sc = await reconnectingMember(c, conv);
    const cMessages: string[] = [];
    sc.on('new_message', (m) => cMessages.push((m as MessageView).text));
    const cRemoved = record(sc, 'removed_from_conversation');
    await sendAs(sa, conv, 'before the drop');
    await waitFor(() => cMessages.length === 1);

    const reconnected = new Promise<void>((resolve) => sc.once('connect', () => resolve()));
    sc.io.engine.close();
    await suite.rest(a).delete(`/conversations/${conv}/participants/${c.id}`).expect(200);
    await sendAs(sa, conv, 'secret while away');
    await reconnected;

    expect(sc.recovered).toBe(true);
    await waitFor(() => cRemoved.length === 1);
    expect(cRemoved).toEqual([{ conversation_id: conv }]);
    await sendAs(sa, conv, 'secret after');
    await settle(QUIET_MS);
    expect(cMessages).toEqual(['before the drop']);
    expectRefused(await emitAck(sc, 'typing', conv));
  });

  it('still gives a member its rooms and the messages it missed', async () => {
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);
    const sa = await suite.connect(a.token);
    const sb = await reconnectingMember(b, conv);
    const bMessages: string[] = [];
    sb.on('new_message', (m) => bMessages.push((m as MessageView).text));
    await sendAs(sa, conv, 'one');
    await waitFor(() => bMessages.length === 1);

    const reconnected = new Promise<void>((resolve) => sb.once('connect', () => resolve()));
    sb.io.engine.close();
    await sendAs(sa, conv, 'two, while away');
    await reconnected;
    await sendAs(sa, conv, 'three');

    expect(sb.recovered).toBe(true);
    await waitFor(() => bMessages.length === 3);
    expect(bMessages).toEqual(['one', 'two, while away', 'three']);
  });

  it("starts afresh when another user presents a member's session id and offset", async () => {
    const [a, b, eve] = await createUsers(3);
    const conv = await createConversation([a, b]);
    const sa = await suite.connect(a.token);
    const sb = await reconnectingMember(b, conv);
    const bMessages = record(sb, 'new_message');
    await sendAs(sa, conv, 'one');
    await waitFor(() => bMessages.length === 1);
    const { _pid: pid, _lastOffset: offset } = sb as unknown as RecoveryState;
    sb.io.reconnection(false);
    sb.io.engine.close(); // b's session is kept for recovery
    await settle(100);
    await sendAs(sa, conv, 'for b only');

    const stolen = await suite.connect(null, { auth: { token: eve.token, pid, offset } });
    const eveMessages = record(stolen, 'new_message');
    const eveNotifications = record(stolen, 'message_notification');
    await sendAs(sa, conv, 'also for b only');
    await settle(QUIET_MS);

    expect(stolen.recovered).toBe(false);
    expect(eveMessages).toHaveLength(0);
    expect(eveNotifications).toHaveLength(0);
    expectRefused(await emitAck(stolen, 'typing', conv));
  });

  it('lets a socket whose token expired recover with a fresh token and use it', async () => {
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);
    const sa = await suite.connect(a.token);
    const sb = await reconnectingMember(b, conv, tokenFor(b.id, { expiresIn: 1 }));
    await nextEvent(sb, 'token_expired', 3500);

    (sb.auth as { token: string }).token = tokenFor(b.id);
    const reconnected = new Promise<void>((resolve) => sb.once('connect', () => resolve()));
    sb.io.engine.close();
    await reconnected;

    expect(sb.recovered).toBe(true);
    await joinHorseTrust(sb, conv);
    const bMessages = record(sb, 'new_message');
    await sendAs(sa, conv, 'welcome back');
    await waitFor(() => bMessages.length === 1);
  });

  it('takes a socket out again when its user is removed while it joins', async () => {
    const [a, b, c] = await createUsers(3);
    const conv = await createConversation([a, b, c]);
    const sa = await suite.connect(a.token);
    const sc = await suite.connect(c.token);
    const cMessages = record(sc, 'new_message');
    // The removal lands between the join's membership check and the join itself.
    const [serverSide] = (await suite.server.realtime.io.in(`user:${c.id}`).fetchSockets()) as [
      unknown,
    ];
    const socket = suite.server.realtime.io.sockets.sockets.get(
      (serverSide as { id: string }).id,
    ) as ChatSocket;
    const join = socket.join.bind(socket);
    let removed = false;
    socket.join = async (rooms) => {
      if (!removed) {
        removed = true;
        await suite.rest(a).delete(`/conversations/${conv}/participants/${c.id}`).expect(200);
      }
      return join(rooms);
    };

    expectRefused(await emitAck(sc, 'join_conversation', conv));
    await sendAs(sa, conv, 'after the removal');
    await settle(QUIET_MS);

    expect(removed).toBe(true);
    expect(cMessages).toHaveLength(0);
    expect([...socket.rooms].filter((room) => room.startsWith('conversation:'))).toEqual([]);
  });
});
