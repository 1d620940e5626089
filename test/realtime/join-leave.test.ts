import { Types } from 'mongoose';
import { conversationRoom, userRoom } from '../../src/realtime/rooms';
import { emitAck, nextEvent, record, settle, waitFor } from '../helpers/realtime';
import {
  QUIET_MS,
  expectRefused,
  isKarmyq,
  joinHorseTrust,
  joinKarmyq,
  namesOf,
  recordAll,
  trio,
  useRealtimeSuite,
} from '../helpers/realtime-suite';

describe('rooms: personal room, join_conversation, leave_conversation', () => {
  const suite = useRealtimeSuite();

  /** The server-side rooms of a connected client socket. */
  async function roomsOf(socketId: string): Promise<string[]> {
    const [serverSide] = await suite.server.realtime.io.in(socketId).fetchSockets();
    return [...serverSide.rooms].sort();
  }

  it('notifies every device of a user through the personal room, joined or not', async () => {
    const { a, b, conv, sa, so } = await trio(suite);
    const sb2 = await suite.connect(b.token);
    const sb1 = await suite.connect(b.token);
    const [onB1, onB2] = [
      nextEvent(sb1, 'message_notification'),
      nextEvent(sb2, 'message_notification'),
    ];
    const outsiderSaw = recordAll(so);

    expect(
      (await emitAck(sa, 'send_message', { conversation_id: conv, text: 'to both devices' }))
        .success,
    ).toBe(true);

    const expected = { conversation_id: conv, sender: a.id, preview: 'to both devices' };
    expect(await onB1).toMatchObject(expected);
    expect(await onB2).toMatchObject(expected);
    await settle(QUIET_MS);
    expect(outsiderSaw).toEqual([]);
  });

  it('joins by a bare id (Horse Trust) and then receives new_message', async () => {
    const { b, conv, sa, sb, so } = await trio(suite);
    await joinHorseTrust(sa, conv);
    expect(await roomsOf(sa.id!)).toContain(conversationRoom(conv));
    const received = nextEvent(sa, 'new_message');
    const outsiderSaw = recordAll(so);

    await emitAck(sb, 'send_message', { conversation_id: conv, text: 'hi a' });

    expect(await received).toMatchObject({
      conversation_id: conv,
      text: 'hi a',
      sender_id: { _id: b.id },
    });
    await settle(QUIET_MS);
    expect(outsiderSaw).toEqual([]);
  });

  it('joins by {conversation_id, user_id} (Karmyq), with or without user_id, or by an upper-case bare id', async () => {
    const { a, b, conv, sa, sb, so } = await trio(suite);
    await joinKarmyq(sa, conv, a.id);
    expect(await emitAck(sa, 'join_conversation', { conversation_id: conv })).toEqual({
      success: true,
      data: { conversation_id: conv },
    });
    expect(await emitAck(sa, 'join_conversation', conv.toUpperCase())).toEqual({
      success: true,
      data: { conversation_id: conv },
    });
    const seen = record(sa, 'new_message');
    const outsiderSaw = recordAll(so);

    await emitAck(sb, 'send_message', { conversation_id: conv, text: 'hi' });

    await waitFor(() => seen.length === 1);
    await settle(QUIET_MS);
    // Once, in the shape of the last join (a bare id: Horse Trust); the earlier
    // Karmyq joins' room was left, so the message is not duplicated in that shape.
    expect(seen).toEqual([
      expect.objectContaining({
        text: 'hi',
        seq: 1,
        sender_id: expect.objectContaining({ _id: b.id }),
      }),
    ]);
    expect(seen.filter(isKarmyq)).toEqual([]);
    expect(outsiderSaw).toEqual([]);
  });

  it('leaves no trace in the rooms of a socket that disconnects while its join reads membership', async () => {
    const { conv, sa } = await trio(suite);
    const id = sa.id!;
    sa.emit('join_conversation', conv);
    sa.disconnect();
    await settle(QUIET_MS);

    const adapter = suite.server.realtime.io.of('/').adapter;
    expect(adapter.rooms.get(conversationRoom(conv))?.has(id) ?? false).toBe(false);
    expect(adapter.sids.has(id)).toBe(false);
  });

  it('ends out of the room when a leave follows its join at once (the join reads membership, the leave does not)', async () => {
    const { a, b, conv, sa, so } = await trio(suite);

    const acks = await Promise.all([
      emitAck(sa, 'join_conversation', conv),
      emitAck(sa, 'leave_conversation', conv),
    ]);
    for (const ack of acks) expect(ack).toMatchObject({ success: true });
    await settle(QUIET_MS);

    expect(await roomsOf(sa.id!)).toEqual([sa.id, userRoom(a.id)].sort());
    const aMessages = record(sa, 'new_message');
    await suite
      .rest(b)
      .post(`/conversations/${conv}/messages`, { text: 'anyone there?' })
      .expect(201);
    await settle(QUIET_MS);
    expect(aMessages).toEqual([]);
    // A join sent after the leave joins again: the order is per event.
    await joinHorseTrust(sa, conv);
    expect(await roomsOf(sa.id!)).toContain(conversationRoom(conv));
    // An outsider's join is refused even when a leave overtakes it: a dropped join is
    // answered as done only for a participant.
    const [outsiderJoin] = await Promise.all([
      emitAck(so, 'join_conversation', conv),
      emitAck(so, 'leave_conversation', conv),
    ]);
    expectRefused(outsiderJoin);
    expect(outsiderJoin).toMatchObject({ code: 'CONVERSATION_NOT_FOUND' });
  });

  it('ends in the dialect of the last join when two joins in different shapes are sent at once', async () => {
    const { a, conv, sa } = await trio(suite);

    const acks = await Promise.all([
      emitAck(sa, 'join_conversation', conv),
      emitAck(sa, 'join_conversation', { conversation_id: conv, user_id: a.id }),
    ]);
    for (const ack of acks) expect(ack).toMatchObject({ success: true });
    await settle(QUIET_MS);

    expect(await roomsOf(sa.id!)).toEqual(
      [sa.id, userRoom(a.id), conversationRoom(conv, 'karmyq')].sort(),
    );
  });

  it('refuses an outsider’s join, which then receives no new_message', async () => {
    const { outsider, conv, sa, sb, so } = await trio(suite);
    await joinHorseTrust(sb, conv);
    const outsiderSaw = recordAll(so);

    expectRefused(await emitAck(so, 'join_conversation', conv), 'Conversation not found');
    expectRefused(
      await emitAck(so, 'join_conversation', { conversation_id: conv, user_id: outsider.id }),
      'Conversation not found',
    );
    expect(await roomsOf(so.id!)).toEqual([so.id, userRoom(outsider.id)].sort());
    await emitAck(sa, 'send_message', { conversation_id: conv, text: 'private' });

    await settle(QUIET_MS);
    expect(namesOf(outsiderSaw)).toEqual([]);
  });

  it('refuses a Karmyq user_id that is not the authenticated user, and joins nothing', async () => {
    const { a, b, conv, sa, sb, so } = await trio(suite);
    const refusal = expectRefused(
      await emitAck(sa, 'join_conversation', { conversation_id: conv, user_id: b.id }),
    );
    expect(refusal.message).toBe('user_id does not match the authenticated user');
    expect(await roomsOf(sa.id!)).toEqual([sa.id, userRoom(a.id)].sort());
    const aSaw = record(sa, 'new_message');
    const outsiderSaw = recordAll(so);

    await emitAck(sb, 'send_message', { conversation_id: conv, text: 'not for a’s room' });

    await settle(QUIET_MS);
    expect(aSaw).toEqual([]);
    expect(outsiderSaw).toEqual([]);
  });

  it.each<[string, unknown]>([
    ['a non-id string', 'not-an-id'],
    ['an empty string', ''],
    ['a 25-digit id', `${'a'.repeat(25)}`],
    ['an object with a bad id', { conversation_id: 42 }],
    ['a number', 42],
  ])('refuses %s', async (_what, payload) => {
    const { a, sa } = await trio(suite);
    expectRefused(await emitAck(sa, 'join_conversation', payload));
    expect(await roomsOf(sa.id!)).toEqual([sa.id, userRoom(a.id)].sort());
  });

  it('refuses a well-formed id of a conversation that does not exist', async () => {
    const { sa } = await trio(suite);
    expectRefused(
      await emitAck(sa, 'join_conversation', new Types.ObjectId().toString()),
      'Conversation not found',
    );
  });

  it('survives join_conversation without an ack callback, valid or not', async () => {
    const { conv, sa, sb, so } = await trio(suite);
    sa.emit('join_conversation', conv);
    sa.emit('join_conversation', 'garbage');
    so.emit('join_conversation', conv);

    // The same sockets still get acks afterwards, and the ack-less valid join took effect.
    await joinHorseTrust(sa, conv);
    expectRefused(await emitAck(so, 'join_conversation', conv));
    const received = nextEvent(sa, 'new_message');
    const outsiderSaw = recordAll(so);
    await emitAck(sb, 'send_message', { conversation_id: conv, text: 'still up' });
    expect(await received).toMatchObject({ text: 'still up' });
    await settle(QUIET_MS);
    expect(outsiderSaw).toEqual([]);
  });

  it.each<[string, (conv: string, userId: string) => unknown]>([
    ['a bare id', (conv) => conv],
    ['{conversation_id, user_id}', (conv, userId) => ({ conversation_id: conv, user_id: userId })],
  ])(
    'after leave_conversation by %s, a socket joined in either dialect gets no new_message',
    async (_how, leavePayload) => {
      const { a, conv, sa, sb, so } = await trio(suite);
      const sa2 = await suite.connect(a.token);
      await joinHorseTrust(sa, conv);
      await joinKarmyq(sa2, conv, a.id);
      expect(await emitAck(sa, 'leave_conversation', leavePayload(conv, a.id))).toEqual({
        success: true,
        data: { conversation_id: conv },
      });
      expect(await emitAck(sa2, 'leave_conversation', leavePayload(conv, a.id))).toEqual({
        success: true,
        data: { conversation_id: conv },
      });
      const [aSaw, a2Saw, outsiderSaw] = [
        record(sa, 'new_message'),
        record(sa2, 'new_message'),
        recordAll(so),
      ];
      const notified = nextEvent(sa, 'message_notification');

      await emitAck(sb, 'send_message', { conversation_id: conv, text: 'after leaving' });

      // Leaving the room is not leaving the conversation: the personal room still notifies.
      expect(await notified).toMatchObject({ conversation_id: conv, preview: 'after leaving' });
      await settle(QUIET_MS);
      expect(aSaw).toEqual([]);
      expect(a2Saw).toEqual([]);
      expect(outsiderSaw).toEqual([]);
    },
  );

  it('refuses a malformed leave_conversation', async () => {
    const { a, conv, sa } = await trio(suite);
    await joinHorseTrust(sa, conv);
    expectRefused(
      await emitAck(sa, 'leave_conversation', {
        conversation_id: conv,
        user_id: new Types.ObjectId().toString(),
      }),
    );
    expectRefused(await emitAck(sa, 'leave_conversation', null));
    expect(await roomsOf(sa.id!)).toEqual([sa.id, conversationRoom(conv), userRoom(a.id)].sort());
  });
});
