import { Message } from '../../models';
import type { MessageView } from '../../src/chat/types';
import { emitAck, nextEvent, record, settle, waitFor } from '../helpers/realtime';
import {
  ISO_DATE,
  OBJECT_ID,
  QUIET_MS,
  expectRefused,
  horseTrustMessage,
  isHorseTrust,
  isKarmyq,
  joinHorseTrust,
  joinKarmyq,
  recordAll,
  trio,
  useRealtimeSuite,
} from '../helpers/realtime-suite';

describe('Karmyq dialect', () => {
  const suite = useRealtimeSuite();

  const karmyqMessage = (fields: {
    conv: string;
    senderId: string;
    senderName: string;
    content: string;
    seq: number;
  }) => ({
    id: expect.stringMatching(OBJECT_ID),
    conversation_id: fields.conv,
    sender_id: fields.senderId,
    sender_name: fields.senderName,
    content: fields.content,
    status: 'sent',
    created_at: expect.stringMatching(ISO_DATE),
    seq: fields.seq,
  });

  it('stores {conversation_id, sender_id, content} and delivers each room its own shape of the same message', async () => {
    const { a, b, conv, sa, sb, so } = await trio(suite);
    await joinKarmyq(sa, conv, a.id);
    await joinHorseTrust(sb, conv);
    const [toA, toB] = [nextEvent(sa, 'new_message'), nextEvent(sb, 'new_message')];
    const notified = nextEvent(sa, 'message_notification');
    const outsiderSaw = recordAll(so);

    const ack = await emitAck(sb, 'send_message', {
      conversation_id: conv,
      sender_id: b.id,
      content: ' Hello, when can we meet? ',
    });

    const content = 'Hello, when can we meet?';
    const karmyq = karmyqMessage({
      conv,
      senderId: b.id,
      senderName: b.full_name,
      content,
      seq: 1,
    });
    expect(ack).toEqual({ success: true, data: karmyq });
    const forA = await toA;
    const forB = await toB;
    expect(forA).toEqual(karmyq);
    expect(forB).toEqual(horseTrustMessage({ conv, sender: b, text: content, seq: 1 }));
    // Same message, two shapes.
    const [ht, km] = [forB as MessageView, forA];
    expect(isKarmyq(km) && [km.id, km.created_at]).toEqual([ht._id, ht.sent_at]);
    expect(await notified).toMatchObject({ conversation_id: conv, sender: b.id, preview: content });

    const stored = await Message.find().lean();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ text: content, seq: 1 });
    expect(stored[0].sender_id.toString()).toBe(b.id);
    await settle(QUIET_MS);
    expect(outsiderSaw).toEqual([]);
  });

  it('switches a socket that joins again in the other shape to that dialect: each message once, in the last shape joined', async () => {
    const { b, conv, sa, sb } = await trio(suite);
    await joinHorseTrust(sa, conv);
    await joinHorseTrust(sb, conv);
    await joinKarmyq(sb, conv, b.id);
    const seen = recordAll(sb);
    const karmyqTyping = record(sb, 'user_typing');

    await emitAck(sa, 'send_message', { conversation_id: conv, text: 'now in Karmyq' });
    sa.emit('typing', conv);
    await waitFor(() => seen.some((r) => r.event === 'new_message'));
    await settle(QUIET_MS);
    const inKarmyq = seen.splice(0).filter((r) => r.event === 'new_message');
    await joinHorseTrust(sb, conv);
    await emitAck(sa, 'send_message', { conversation_id: conv, text: 'back in Horse Trust' });
    await waitFor(() => seen.some((r) => r.event === 'new_message'));
    await settle(QUIET_MS);
    const inHorseTrust = seen.filter((r) => r.event === 'new_message');

    expect(inKarmyq.map((r) => r.args)).toEqual([
      [expect.objectContaining({ content: 'now in Karmyq', seq: 1 })],
    ]);
    expect(isKarmyq(inKarmyq[0].args[0] as MessageView)).toBe(true);
    expect(inHorseTrust.map((r) => r.args)).toEqual([
      [expect.objectContaining({ text: 'back in Horse Trust', seq: 2 })],
    ]);
    expect(isHorseTrust(inHorseTrust[0].args[0] as MessageView)).toBe(true);
    expect(karmyqTyping).toHaveLength(1);
    const rooms = suite.server.realtime.io.of('/').adapter.rooms;
    expect(rooms.get(`conversation:${conv}:karmyq`)).toBeUndefined();
    expect(rooms.get(`conversation:${conv}`)?.has(sb.id!)).toBe(true);
  });

  it('accepts a Karmyq send without sender_id, acting as the token’s user', async () => {
    const { a, conv, sa, so } = await trio(suite);
    const outsiderSaw = recordAll(so);
    const ack = await emitAck(sa, 'send_message', {
      conversation_id: conv,
      content: 'no sender_id',
    });
    expect(ack).toEqual({
      success: true,
      data: karmyqMessage({
        conv,
        senderId: a.id,
        senderName: a.full_name,
        content: 'no sender_id',
        seq: 1,
      }),
    });
    await settle(QUIET_MS);
    expect(outsiderSaw).toEqual([]);
  });

  it('refuses a sender_id that is not the authenticated user, stores nothing and tells nobody', async () => {
    const { a, b, outsider, conv, sa, sb, so } = await trio(suite);
    await joinKarmyq(sa, conv, a.id);
    await joinHorseTrust(sb, conv);
    const seen = [recordAll(sa), recordAll(sb), recordAll(so)];

    const spoofed = await emitAck(sb, 'send_message', {
      conversation_id: conv,
      sender_id: a.id,
      content: 'I am a',
    });
    expectRefused(spoofed, 'sender_id does not match the authenticated user');
    expectRefused(
      await emitAck(so, 'send_message', {
        conversation_id: conv,
        sender_id: outsider.id,
        content: 'let me in',
      }),
    );
    expectRefused(
      await emitAck(sb, 'send_message', { conversation_id: conv, sender_id: b.id, content: '   ' }),
      /content is required|text is required/,
    );

    expect(await Message.countDocuments()).toBe(0);
    await settle(QUIET_MS);
    expect(seen).toEqual([[], [], []]);
  });

  it('refuses an image or location send (message_type, media_url) rather than storing its caption alone; text passes', async () => {
    const { a, b, conv, sa, sb } = await trio(suite);
    await Promise.all([joinKarmyq(sa, conv, a.id), joinKarmyq(sb, conv, b.id)]);
    const bSaw = recordAll(sb);
    const send = (extra: Record<string, unknown>) =>
      emitAck(sa, 'send_message', {
        conversation_id: conv,
        sender_id: a.id,
        content: 'look',
        ...extra,
      });

    expectRefused(
      await send({ message_type: 'image', media_url: 'https://x.test/h.jpg' }),
      /message_type/,
    );
    expectRefused(await send({ message_type: 'location' }), /message_type/);
    expectRefused(await send({ media_url: 'https://x.test/h.jpg' }), /media_url/);
    expectRefused(await send({ message_type: ['text'] }), /message_type/);
    expect(await Message.countDocuments()).toBe(0);
    await settle(QUIET_MS);
    expect(bSaw).toEqual([]);

    // An explicit text type (or a null one, meaning absent) is an ordinary message.
    expect(await send({ message_type: 'text', media_url: null })).toMatchObject({ success: true });
    // Karmyq's handler reads `message_type || 'text'`: empty means text too.
    expect(await send({ message_type: '', media_url: '' })).toMatchObject({ success: true });
    expect(await Message.countDocuments()).toBe(2);
  });

  it('answers a Horse Trust send to a Karmyq room in the Karmyq shape, and vice versa', async () => {
    const { a, b, conv, sa, sb, so } = await trio(suite);
    await joinKarmyq(sa, conv, a.id);
    await joinHorseTrust(sb, conv);
    const [toA, toB] = [record(sa, 'new_message'), record(sb, 'new_message')];
    const outsiderSaw = recordAll(so);

    await emitAck(sa, 'send_message', { conversation_id: conv, text: 'from a, Horse Trust style' });
    await emitAck(sb, 'send_message', {
      conversation_id: conv,
      sender_id: b.id,
      content: 'from b, Karmyq style',
    });

    await waitFor(() => toA.length === 2 && toB.length === 2);
    expect(toA.every(isKarmyq)).toBe(true);
    expect(toB.every(isHorseTrust)).toBe(true);
    expect(toA.filter(isKarmyq).map((m) => [m.seq, m.content, m.sender_id])).toEqual([
      [1, 'from a, Horse Trust style', a.id],
      [2, 'from b, Karmyq style', b.id],
    ]);
    await settle(QUIET_MS);
    expect(outsiderSaw).toEqual([]);
  });
});
