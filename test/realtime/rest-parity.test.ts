import { Message } from '../../models';
import type { MessageView } from '../../src/chat/types';
import { emitAck, nextEvent, record, settle } from '../helpers/realtime';
import {
  ISO_DATE,
  OBJECT_ID,
  QUIET_MS,
  horseTrustMessage,
  joinHorseTrust,
  joinKarmyq,
  recordAll,
  trio,
  useRealtimeSuite,
} from '../helpers/realtime-suite';

describe('REST sends produce the same socket events as socket sends', () => {
  const suite = useRealtimeSuite();

  it('POST …/messages emits new_message (populated sender) and message_notification', async () => {
    const { a, conv, sa, sb, so } = await trio(suite);
    await joinHorseTrust(sa, conv);
    await joinHorseTrust(sb, conv);
    const [toA, toB] = [nextEvent(sa, 'new_message'), nextEvent(sb, 'new_message')];
    const notified = nextEvent(sb, 'message_notification');
    const senderNotified = record(sa, 'message_notification');
    const outsiderSaw = recordAll(so);

    const res = await suite
      .rest(a)
      .post(`/conversations/${conv}/messages`, { text: ' Yes, I would love to visit! ' })
      .expect(201);

    const text = 'Yes, I would love to visit!';
    // The REST response keeps the seed's id-string sender; the broadcast populates it.
    expect(res.body).toEqual({
      success: true,
      data: { ...horseTrustMessage({ conv, sender: a, text, seq: 1 }), sender_id: a.id },
    });
    const broadcast = await toB;
    expect(broadcast).toEqual(horseTrustMessage({ conv, sender: a, text, seq: 1 }));
    expect(await toA).toEqual(broadcast);
    expect((broadcast as MessageView)._id).toBe((res.body as { data: MessageView }).data._id);
    expect(await notified).toEqual({
      conversation_id: conv,
      sender: a.id,
      preview: text,
      message_id: (broadcast as MessageView)._id,
      seq: 1,
    });
    await settle(QUIET_MS);
    expect(senderNotified).toEqual([]);
    expect(outsiderSaw).toEqual([]);
  });

  it('a REST send and a socket send look the same to a receiver, in both dialects', async () => {
    const { a, b, conv, sa, sb, so } = await trio(suite);
    const sbKarmyq = await suite.connect(b.token);
    await joinHorseTrust(sb, conv);
    await joinKarmyq(sbKarmyq, conv, b.id);
    const [horseTrust, karmyq, notes] = [
      record(sb, 'new_message'),
      record(sbKarmyq, 'new_message'),
      record(sb, 'message_notification'),
    ];
    const outsiderSaw = recordAll(so);

    await suite.rest(a).post(`/conversations/${conv}/messages`, { text: 'over REST' }).expect(201);
    await emitAck(sa, 'send_message', { conversation_id: conv, text: 'over the socket' });

    await settle(QUIET_MS);
    expect(horseTrust).toEqual([
      horseTrustMessage({ conv, sender: a, text: 'over REST', seq: 1 }),
      horseTrustMessage({ conv, sender: a, text: 'over the socket', seq: 2 }),
    ]);
    const karmyqShape = (content: string, seq: number) => ({
      id: expect.stringMatching(OBJECT_ID),
      conversation_id: conv,
      sender_id: a.id,
      sender_name: a.full_name,
      content,
      status: 'sent',
      created_at: expect.stringMatching(ISO_DATE),
      seq,
    });
    expect(karmyq).toEqual([karmyqShape('over REST', 1), karmyqShape('over the socket', 2)]);
    expect(notes.map((n) => Object.keys(n).sort())).toEqual([
      ['conversation_id', 'message_id', 'preview', 'sender', 'seq'],
      ['conversation_id', 'message_id', 'preview', 'sender', 'seq'],
    ]);
    expect(notes.map((n) => n.preview)).toEqual(['over REST', 'over the socket']);
    // Each notification appears once per device, not once per joined dialect room.
    expect(notes).toHaveLength(2);
    expect(outsiderSaw).toEqual([]);
  });

  it('a refused REST send emits nothing', async () => {
    const { a, outsider, conv, sa, sb, so } = await trio(suite);
    await joinHorseTrust(sa, conv);
    await joinHorseTrust(sb, conv);
    const seen = [recordAll(sa), recordAll(sb), recordAll(so)];

    await suite
      .rest(outsider)
      .post(`/conversations/${conv}/messages`, { text: 'intruder' })
      .expect(404);
    await suite.rest(a).post(`/conversations/${conv}/messages`, { text: '   ' }).expect(400);
    await suite
      .rest(a)
      .post(`/conversations/${conv}/messages`, { text: 'x'.repeat(2001) })
      .expect(400);

    expect(await Message.countDocuments()).toBe(0);
    await settle(QUIET_MS);
    expect(seen).toEqual([[], [], []]);
  });

  it('names the same mistake with the same code on every path: a malformed conversation id is VALIDATION_FAILED', async () => {
    const { a, sa } = await trio(suite);

    const viaRest = await suite.rest(a).get('/conversations/abc/messages').expect(400);
    const acks = await Promise.all([
      emitAck(sa, 'join_conversation', 'abc'),
      emitAck(sa, 'join_conversation', { conversation_id: 'abc', user_id: a.id }),
      emitAck(sa, 'send_message', { conversation_id: 'abc', text: 'hi' }),
      emitAck(sa, 'typing', 'abc'),
      emitAck(sa, 'mark_read', { conversation_id: 'abc' }),
    ]);

    expect((viaRest.body as { code: string }).code).toBe('VALIDATION_FAILED');
    for (const ack of acks) {
      expect(ack).toMatchObject({ success: false, code: 'VALIDATION_FAILED' });
    }
    expect(await Message.countDocuments()).toBe(0);
  });

  it('answers a malformed claimed user id (Karmyq user_id, sender_id) with VALIDATION_FAILED on REST and sockets; a well-formed other id is FORBIDDEN', async () => {
    const { a, b, conv, sa } = await trio(suite);

    const viaRest = await suite
      .rest(a)
      .post(`/conversations/${conv}/mark-read`, { user_id: 'abc' })
      .expect(400);
    const malformed = await Promise.all([
      emitAck(sa, 'join_conversation', { conversation_id: conv, user_id: 'abc' }),
      emitAck(sa, 'send_message', { conversation_id: conv, sender_id: 123, content: 'hi' }),
      emitAck(sa, 'mark_read', { conversation_id: conv, user_id: '' }),
      emitAck(sa, 'typing_start', { conversation_id: conv, user_id: ['x'] }),
    ]);
    const otherUser = await emitAck(sa, 'join_conversation', {
      conversation_id: conv,
      user_id: b.id,
    });

    expect((viaRest.body as { code: string }).code).toBe('VALIDATION_FAILED');
    for (const ack of malformed) {
      expect(ack).toMatchObject({ success: false, code: 'VALIDATION_FAILED' });
    }
    expect(otherUser).toMatchObject({ success: false, code: 'FORBIDDEN' });
    expect(await Message.countDocuments()).toBe(0);
  });
});
