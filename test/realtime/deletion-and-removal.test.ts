import { Conversation, Message } from '../../models';
import type { MessageView } from '../../src/chat/types';
import { conversationRoom, userRoom } from '../../src/realtime/rooms';
import { emitAck, nextEvent, record, settle, waitFor } from '../helpers/realtime';
import {
  ISO_DATE,
  QUIET_MS,
  expectRefused,
  joinHorseTrust,
  joinKarmyq,
  namesOf,
  recordAll,
  trio,
  useRealtimeSuite,
} from '../helpers/realtime-suite';

describe('message deletion and participant removal', () => {
  const suite = useRealtimeSuite();

  it('DELETE …/messages/:messageId by the sender emits message_deleted to both dialect rooms, once; refusals emit nothing', async () => {
    const { a, b, outsider, conv, sa, sb, so } = await trio(suite);
    const sbKarmyq = await suite.connect(b.token);
    await Promise.all([
      joinHorseTrust(sa, conv),
      joinHorseTrust(sb, conv),
      joinKarmyq(sbKarmyq, conv, b.id),
    ]);
    const sent = await emitAck(sa, 'send_message', { conversation_id: conv, text: 'oops' });
    const messageId = (sent as { data: MessageView }).data._id;
    const [toA, toB, toBKarmyq] = [
      record(sa, 'message_deleted'),
      record(sb, 'message_deleted'),
      record(sbKarmyq, 'message_deleted'),
    ];
    const outsiderSaw = recordAll(so);

    await suite.rest(b).delete(`/conversations/${conv}/messages/${messageId}`).expect(403);
    await suite.rest(outsider).delete(`/conversations/${conv}/messages/${messageId}`).expect(404);
    expect((await Message.findById(messageId).lean())?.deleted_at).toBeNull();
    await suite.rest(a).delete(`/conversations/${conv}/messages/${messageId}`).expect(200);

    const expected = {
      _id: messageId,
      id: messageId,
      conversation_id: conv,
      seq: 1,
      deleted_at: expect.stringMatching(ISO_DATE),
    };
    await waitFor(() => toA.length + toB.length + toBKarmyq.length >= 3);
    expect((await Message.findById(messageId).lean())?.deleted_at).toBeInstanceOf(Date);
    await settle(QUIET_MS);
    expect([toA, toB, toBKarmyq]).toEqual([[expected], [expected], [expected]]);
    expect(outsiderSaw).toEqual([]);
  });

  it('a removed participant’s sockets get removed_from_conversation, then no new_message, notification or typing', async () => {
    const { a, b, conv, sa, sb, so } = await trio(suite);
    const sb2 = await suite.connect(b.token);
    const sbIdle = await suite.connect(b.token); // never joined: hears only through the personal room
    await Promise.all([
      joinHorseTrust(sa, conv),
      joinHorseTrust(sb, conv),
      joinKarmyq(sb2, conv, b.id),
    ]);
    const removedNotices = [
      nextEvent(sb, 'removed_from_conversation'),
      nextEvent(sb2, 'removed_from_conversation'),
      nextEvent(sbIdle, 'removed_from_conversation'),
    ];

    // The creator (first participant) removes b, spelling the ids in capitals (hex
    // either way): the rooms are still the ones the sockets joined.
    const res = await suite
      .rest(a)
      .delete(`/conversations/${conv.toUpperCase()}/participants/${b.id.toUpperCase()}`)
      .expect(200);
    expect(res.body).toEqual({ success: true, data: { removed: b.id } });

    for (const notice of removedNotices) expect(await notice).toEqual({ conversation_id: conv });
    for (const socket of [sb, sb2]) {
      const [serverSide] = await suite.server.realtime.io.in(socket.id!).fetchSockets();
      expect([...serverSide.rooms].sort()).toEqual([socket.id, userRoom(b.id)].sort());
    }
    const heardByB = [recordAll(sb), recordAll(sb2), recordAll(sbIdle)];
    const outsiderSaw = recordAll(so);
    const echoed = record(sa, 'new_message');

    await emitAck(sa, 'send_message', { conversation_id: conv, text: 'after removal' });
    await emitAck(sa, 'typing', conv);
    await emitAck(sa, 'typing_start', { conversation_id: conv, user_id: a.id });
    // b can no longer act in the conversation either.
    expectRefused(await emitAck(sb, 'join_conversation', conv), 'Conversation not found');
    expectRefused(await emitAck(sb2, 'typing', conv), 'Conversation not found');
    expectRefused(
      await emitAck(sb, 'send_message', { conversation_id: conv, text: 'still here?' }),
      'Conversation not found',
    );

    await waitFor(() => echoed.length === 1);
    await settle(QUIET_MS);
    expect(heardByB.map(namesOf)).toEqual([[], [], []]);
    expect(outsiderSaw).toEqual([]);
    expect(await Message.countDocuments()).toBe(1);
    expect(await suite.server.realtime.io.in(conversationRoom(conv)).fetchSockets()).toHaveLength(
      1,
    );
  });

  it('only the creator removes others: a refused removal changes nothing and emits nothing', async () => {
    const { a, b, conv, sa, sb, so } = await trio(suite);
    await Promise.all([joinHorseTrust(sa, conv), joinHorseTrust(sb, conv)]);
    const seen = [
      record(sa, 'removed_from_conversation'),
      record(sb, 'removed_from_conversation'),
      recordAll(so),
    ];

    await suite.rest(b).delete(`/conversations/${conv}/participants/${a.id}`).expect(403);
    const participants = (await Conversation.findById(conv).lean())?.participants.map(String);
    expect(participants).toEqual([a.id, b.id]);

    const received = nextEvent(sa, 'new_message');
    await emitAck(sb, 'send_message', { conversation_id: conv, text: 'we are both still here' });
    expect(await received).toMatchObject({ text: 'we are both still here' });
    await settle(QUIET_MS);
    expect(seen).toEqual([[], [], []]);
  });
});
