import { Types } from 'mongoose';
import { Conversation } from '../../models';
import { confirmRecoveredRooms, replayPackets } from '../../src/realtime/checked-recovery';
import type { MessageView } from '../../src/chat/types';
import type { RecoveryAdapter } from '../../src/realtime/recovery-adapter';
import { conversationRoom } from '../../src/realtime/rooms';
import type { ChatSocket } from '../../src/realtime/socket-types';
import { createConversation, createUsers, type TestUser } from '../factories';
import {
  connectReconnecting,
  emitAck,
  nextEvent,
  record,
  settle,
  waitFor,
  type ClientSocket,
} from '../helpers/realtime';
import {
  QUIET_MS,
  recordAll,
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

  /** A socket that reconnects by itself. */
  async function reconnectingSocket(token: string) {
    const socket = await connectReconnecting(suite.server.url, token);
    opened.push(socket);
    return socket;
  }

  /** A socket that reconnects by itself, joined to `conv`. */
  async function reconnectingMember(user: TestUser, conv: string, token = user.token) {
    const socket = await reconnectingSocket(token);
    await joinHorseTrust(socket, conv);
    return socket;
  }

  /** The server's side of a user's one connected socket. */
  async function serverSocketOf(user: TestUser): Promise<ChatSocket> {
    const [remote] = await suite.server.realtime.io.in(`user:${user.id}`).fetchSockets();
    return suite.server.realtime.io.sockets.sockets.get(remote.id) as ChatSocket;
  }

  async function sendAs(sender: ClientSocket, conv: string, text: string) {
    const ack = await emitAck(sender, 'send_message', { conversation_id: conv, text });
    expect(ack.success).toBe(true);
    return (ack.success ? ack.data : null) as MessageView;
  }

  /** b, joined, having received a's first message; the texts b's socket receives. */
  async function memberAfterOneMessage() {
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);
    const sa = await suite.connect(a.token);
    const sb = await reconnectingMember(b, conv);
    const bMessages: string[] = [];
    sb.on('new_message', (m) => bMessages.push((m as MessageView).text));
    await sendAs(sa, conv, 'one');
    await waitFor(() => bMessages.length === 1);
    return { conv, sa, sb, bMessages };
  }

  /** Drops the socket's transport for the whole of `work`, then reconnects it. */
  async function awayWhile(socket: ClientSocket, work: () => Promise<unknown>) {
    socket.io.reconnection(false);
    socket.io.engine.close();
    await work();
    const reconnected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.connect();
    await reconnected;
  }

  /**
   * a (connected, in no conversation room) and b (a member) after one message,
   * b's transport then dropped for good: its session is kept for recovery.
   */
  async function droppedMemberSession() {
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);
    const sa = await suite.connect(a.token);
    const sb = await reconnectingMember(b, conv);
    const bMessages = record(sb, 'new_message');
    await sendAs(sa, conv, 'one');
    await waitFor(() => bMessages.length === 1);
    const { _pid: pid, _lastOffset: offset } = sb as unknown as RecoveryState;
    sb.io.reconnection(false);
    sb.io.engine.close();
    await settle(100);
    return { a, b, conv, sa, pid, offset };
  }

  /** The texts of the new_message packets our adapter keeps for `conv` after `offset`. */
  function storedTexts(offset: string, conv: string): string[] {
    const adapter = suite.server.realtime.io.of('/').adapter as unknown as RecoveryAdapter;
    return (adapter.packetsAfter(offset, [conversationRoom(conv)]) ?? []).map(
      ([, message]) => (message as MessageView).text,
    );
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

    await awayWhile(sc, async () => {
      await suite.rest(a).delete(`/conversations/${conv}/participants/${c.id}`).expect(200);
      await sendAs(sa, conv, 'secret while away');
    });

    expect(sc.recovered).toBe(true);
    await waitFor(() => cRemoved.length === 1);
    expect(cRemoved).toEqual([{ conversation_id: conv }]);
    await sendAs(sa, conv, 'secret after');
    await settle(QUIET_MS);
    expect(cMessages).toEqual(['before the drop']);
    expectRefused(await emitAck(sc, 'typing', conv));
  });

  it('still gives a member its rooms and the messages it missed', async () => {
    const { conv, sa, sb, bMessages } = await memberAfterOneMessage();

    await awayWhile(sb, () => sendAs(sa, conv, 'two, while away'));
    await sendAs(sa, conv, 'three');

    expect(sb.recovered).toBe(true);
    await waitFor(() => bMessages.length === 3);
    expect(bMessages).toEqual(['one', 'two, while away', 'three']);
  });

  it('replays what went to the user’s own room, for conversations it had not joined', async () => {
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);
    const sa = await suite.connect(a.token);
    // b's inbox: a socket in no conversation room, that has seen one notification.
    const sb = await reconnectingSocket(b.token);
    const notes = record(sb, 'message_notification');
    await sendAs(sa, conv, 'one');
    await waitFor(() => notes.length === 1);

    await awayWhile(sb, () => sendAs(sa, conv, 'two, while away'));

    expect(sb.recovered).toBe(true);
    await waitFor(() => notes.length === 2);
    expect(notes.map((n) => n.preview)).toEqual(['one', 'two, while away']);
  });

  it('replays what was sent while the recovering socket’s rooms were being checked', async () => {
    // Nobody else is in the room: only the restored session keeps its packets.
    const { conv, sa, sb, bMessages } = await memberAfterOneMessage();
    // A message sent once the session is restored, before the socket is connected.
    const adapter = suite.server.realtime.io.of('/').adapter;
    const addAll = adapter.addAll.bind(adapter);
    let sentMeanwhile = false;
    adapter.addAll = async (id, rooms) => {
      if (!sentMeanwhile && rooms.has(`conversation:${conv}`)) {
        sentMeanwhile = true;
        await sendAs(sa, conv, 'two, while being checked');
      }
      return addAll(id, rooms);
    };

    try {
      const reconnected = new Promise<void>((resolve) => sb.once('connect', () => resolve()));
      sb.io.engine.close();
      await reconnected;
      await waitFor(() => bMessages.length === 2);
    } finally {
      adapter.addAll = addAll;
    }

    expect(sb.recovered).toBe(true);
    expect(sentMeanwhile).toBe(true);
    expect(bMessages).toEqual(['one', 'two, while being checked']);
  });

  it('stops keeping packets on a restored session’s account once its check is over', async () => {
    // Nobody else is in the room: once b is gone for good, nobody could receive them.
    const { conv, sa, sb, bMessages } = await memberAfterOneMessage();
    await awayWhile(sb, () => sendAs(sa, conv, 'two, while away'));
    await waitFor(() => bMessages.length === 2);
    const { _lastOffset: offset } = sb as unknown as RecoveryState;

    await sendAs(sa, conv, 'three');
    await waitFor(() => bMessages.length === 3);
    expect(storedTexts(offset, conv)).toEqual(['three']);
    sb.close(); // a voluntary disconnect: no session is kept
    await settle(100);
    await sendAs(sa, conv, 'four, to nobody');

    expect(sb.recovered).toBe(true);
    expect(storedTexts(offset, conv)).toEqual(['three']);
  });

  it.each([
    ['its offset is not one the log holds', 'offset'],
    ['its handshake is refused', 'token'],
  ])('stops keeping packets for a session at once when %s', async (_case, spoiled) => {
    const { b, conv, sa, pid, offset } = await droppedMemberSession();
    await sendAs(sa, conv, 'kept for b');
    expect(storedTexts(offset, conv)).toEqual(['kept for b']);

    if (spoiled === 'offset') {
      const fresh = await suite.connect(null, {
        auth: { token: b.token, pid, offset: `${offset}x` },
      });
      expect(fresh.recovered).toBe(false);
    } else {
      await expect(
        suite.connect(null, { auth: { token: 'not-a-token', pid, offset } }),
      ).rejects.toThrow();
    }
    await sendAs(sa, conv, 'to nobody');

    expect(storedTexts(offset, conv)).toEqual(['kept for b']);
  });

  it("starts afresh when another user presents a member's session id and offset", async () => {
    const [eve] = await createUsers(1);
    const { conv, sa, pid, offset } = await droppedMemberSession();
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

  it('starts afresh a socket whose token expired, reconnecting with a fresh token, so that it joins again', async () => {
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);
    const sa = await suite.connect(a.token);
    const sb = await reconnectingMember(b, conv, tokenFor(b.id, { expiresIn: 2 }));
    // Whole seconds: a 2 s token expires 1-2 s after signing, never before the join.
    await nextEvent(sb, 'token_expired', 3500);

    (sb.auth as { token: string }).token = tokenFor(b.id);
    const reconnected = new Promise<void>((resolve) => sb.once('connect', () => resolve()));
    sb.io.engine.close();
    await reconnected;

    // Suspended, it had left its rooms: "recovered" would promise what it lacks.
    expect(sb.recovered).toBe(false);
    await joinHorseTrust(sb, conv);
    const bMessages = record(sb, 'new_message');
    await sendAs(sa, conv, 'welcome back');
    await waitFor(() => bMessages.length === 1);
  });

  it('takes a recovered socket out of a conversation whose removal it missed, with the notice', async () => {
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);
    const sb = await suite.connect(b.token);
    await joinHorseTrust(sb, conv);
    const removedNotice = record(sb, 'removed_from_conversation');
    const socket = await serverSocketOf(b);
    // A removal whose socketsLeave skipped this socket (it was not yet connected).
    await Conversation.updateOne(
      { _id: conv },
      { $pull: { participants: new Types.ObjectId(b.id), members: { user_id: b.id } } },
    );

    await confirmRecoveredRooms(socket);

    expect([...socket.rooms].filter((room) => room.startsWith('conversation:'))).toEqual([]);
    await waitFor(() => removedNotice.length === 1);
    expect(removedNotice).toEqual([{ conversation_id: conv }]);
  });

  it('replays a removal during the check in order: nothing of the conversation after it, one notice', async () => {
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);
    const sb = await suite.connect(b.token);
    await joinHorseTrust(sb, conv);
    const seen = recordAll(sb);
    const socket = await serverSocketOf(b);
    await Conversation.updateOne(
      { _id: conv },
      { $pull: { participants: new Types.ObjectId(b.id), members: { user_id: b.id } } },
    );
    const before = { conversation_id: conv, text: 'before' };

    replayPackets(
      socket,
      [
        ['new_message', before, 'o1'],
        ['removed_from_conversation', { conversation_id: conv }, 'o2'],
        ['new_message', { conversation_id: conv, text: 'after the removal' }, 'o3'],
        ['user_typing', { conversation_id: conv, userId: a.id }, 'o4'],
        ['message_notification', { conversation_id: conv, preview: 'to b' }, 'o5'],
      ],
      new Set([conv]),
    );
    await confirmRecoveredRooms(socket);
    await settle(QUIET_MS);

    expect(seen.map((r) => [r.event, r.args[0]])).toEqual([
      ['new_message', before],
      ['removed_from_conversation', { conversation_id: conv }],
      ['message_notification', { conversation_id: conv, preview: 'to b' }],
    ]);
    expect([...socket.rooms].filter((room) => room.startsWith('conversation:'))).toEqual([]);
  });

  it('takes a socket out again when its user is removed while it joins', async () => {
    const [a, b, c] = await createUsers(3);
    const conv = await createConversation([a, b, c]);
    const sa = await suite.connect(a.token);
    const sc = await suite.connect(c.token);
    const cMessages = record(sc, 'new_message');
    // The removal lands between the join's membership check and the join itself.
    const socket = await serverSocketOf(c);
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
