import { Types } from 'mongoose';
import { Conversation, Message } from '../../models';
import { emitAck, nextEvent, record, settle } from '../helpers/realtime';
import {
  OBJECT_ID,
  QUIET_MS,
  expectRefused,
  horseTrustMessage,
  joinHorseTrust,
  recordAll,
  trio,
  useRealtimeSuite,
} from '../helpers/realtime-suite';

describe('send_message (Horse Trust)', () => {
  const suite = useRealtimeSuite();

  it('acks {success:true, data} in the seed shape (text trimmed), stores it, and broadcasts it to the room, sender included', async () => {
    const { a, conv, sa, sb, so } = await trio(suite);
    await joinHorseTrust(sa, conv);
    await joinHorseTrust(sb, conv);
    const [toA, toB] = [nextEvent(sa, 'new_message'), nextEvent(sb, 'new_message')];
    const outsiderSaw = recordAll(so);

    const ack = await emitAck(sa, 'send_message', {
      conversation_id: conv,
      text: '  Is this horse still available?  ',
    });

    const text = 'Is this horse still available?';
    const expected = horseTrustMessage({ conv, sender: a, text, seq: 1 });
    expect(ack).toEqual({ success: true, data: expected });
    expect(await toA).toEqual(expected);
    expect(await toB).toEqual((ack as { data: unknown }).data);
    const data = (ack as { data: { _id: string; sent_at: string } }).data;
    const stored = await Message.findById(data._id).lean();
    expect(stored).toMatchObject({ text, seq: 1, is_read: false, read_at: null, deleted_at: null });
    expect(stored?.sender_id.toString()).toBe(a.id);
    expect(stored?.sent_at.toISOString()).toBe(data.sent_at);
    expect((await Conversation.findById(conv).lean())?.last_message).toMatchObject({
      text,
      seq: 1,
    });
    await settle(QUIET_MS);
    expect(outsiderSaw).toEqual([]);
  });

  it('notifies the other participant with a 60-character preview, joined or not; never the sender', async () => {
    const { a, conv, sa, sb, so } = await trio(suite);
    await joinHorseTrust(sa, conv);
    const senderNotified = record(sa, 'message_notification');
    const notified = nextEvent(sb, 'message_notification');
    const outsiderSaw = recordAll(so);
    const text = Array.from({ length: 10 }, (_, i) => `${i}abcdefghi`).join('');
    expect(text).toHaveLength(100);

    const ack = await emitAck(sa, 'send_message', { conversation_id: conv, text });

    const data = (ack as { data: { _id: string } }).data;
    expect(await notified).toEqual({
      conversation_id: conv,
      sender: a.id,
      preview: text.slice(0, 60),
      message_id: data._id,
      seq: 1,
    });
    await settle(QUIET_MS);
    expect(senderNotified).toEqual([]);
    expect(outsiderSaw).toEqual([]);
  });

  it('accepts exactly 2000 characters after trimming', async () => {
    const { conv, sa } = await trio(suite);
    const text = 'y'.repeat(2000);
    const ack = await emitAck(sa, 'send_message', { conversation_id: conv, text: `  ${text}\n` });
    expect(ack).toMatchObject({ success: true, data: { text } });
    expect(await Message.countDocuments()).toBe(1);
  });

  it('refuses every invalid send with {success:false, message}, stores nothing and tells nobody', async () => {
    const { conv, sa, sb, so } = await trio(suite);
    await joinHorseTrust(sa, conv);
    await joinHorseTrust(sb, conv);
    const [bSaw, outsiderSaw] = [recordAll(sb), recordAll(so)];
    const aSaw = record(sa, 'new_message');
    const cases: Array<[string, unknown, RegExp]> = [
      ['an empty text', { conversation_id: conv, text: '' }, /^text is required$/],
      ['a whitespace-only text', { conversation_id: conv, text: ' \n\t ' }, /^text is required$/],
      [
        '2001 characters',
        { conversation_id: conv, text: 'x'.repeat(2001) },
        /^text must be at most 2000 characters$/,
      ],
      [
        '2001 characters after trimming',
        { conversation_id: conv, text: ` ${'x'.repeat(2001)} ` },
        /at most 2000/,
      ],
      ['a number as text', { conversation_id: conv, text: 42 }, /^text must be a string$/],
      ['an array as text', { conversation_id: conv, text: ['hi'] }, /^text must be a string$/],
      [
        'an operator object as text',
        { conversation_id: conv, text: { $ne: null } },
        /^text must be a string$/,
      ],
      ['null text', { conversation_id: conv, text: null }, /^text must be a string$/],
      ['no text at all', { conversation_id: conv }, /^text must be a string$/],
      ['no conversation_id', { text: 'hello' }, /^conversation_id must be a valid id$/],
      [
        'an invalid conversation_id',
        { conversation_id: 'abc', text: 'hello' },
        /^conversation_id must be a valid id$/,
      ],
      ['a bare string payload', 'hello', /^Expected \{conversation_id, text\}$/],
      ['no payload', undefined, /^Expected \{conversation_id, text\}$/],
    ];

    for (const [what, payload, message] of cases) {
      const ack = await emitAck(sa, 'send_message', payload);
      expect({ what, ack }).toEqual({
        what,
        ack: expect.objectContaining({ success: false, message: expect.stringMatching(message) }),
      });
    }

    expect(await Message.countDocuments()).toBe(0);
    await settle(QUIET_MS);
    expect(aSaw).toEqual([]);
    expect(bSaw).toEqual([]);
    expect(outsiderSaw).toEqual([]);
  });

  it('refuses an outsider’s send, stores nothing and tells nobody', async () => {
    const { conv, sa, sb, so } = await trio(suite);
    await joinHorseTrust(sa, conv);
    await joinHorseTrust(sb, conv);
    const seen = [recordAll(sa), recordAll(sb), recordAll(so)];

    expectRefused(
      await emitAck(so, 'send_message', { conversation_id: conv, text: 'let me in' }),
      'Conversation not found',
    );
    expectRefused(
      await emitAck(sa, 'send_message', {
        conversation_id: new Types.ObjectId().toString(),
        text: 'nowhere',
      }),
    );

    expect(await Message.countDocuments()).toBe(0);
    await settle(QUIET_MS);
    expect(seen).toEqual([[], [], []]);
  });

  it('refuses sends beyond 256 waiting on one socket with RATE_LIMITED, storing only those it accepted', async () => {
    const { conv, sa } = await trio(suite);
    // Emitted at once: they queue behind each other (one send at a time per socket).
    const acks = await Promise.all(
      Array.from({ length: 400 }, (_, i) =>
        emitAck(sa, 'send_message', { conversation_id: conv, text: `burst ${i}` }),
      ),
    );
    const accepted = acks.filter((ack) => ack.success).length;
    const refused = acks.filter((ack) => !ack.success);

    expect(refused.length).toBeGreaterThan(0);
    expect(accepted).toBeGreaterThanOrEqual(256);
    for (const ack of refused) {
      expect(ack).toMatchObject({
        success: false,
        code: 'RATE_LIMITED',
        message: 'Too many sends waiting on this socket',
      });
    }
    expect(await Message.countDocuments({ conversation_id: conv })).toBe(accepted);
    // Once the queue has drained, the socket sends again.
    expect(
      await emitAck(sa, 'send_message', { conversation_id: conv, text: 'after' }),
    ).toMatchObject({ success: true, data: { seq: accepted + 1 } });
  });

  it('replays a repeated client_message_id instead of storing it twice', async () => {
    const { conv, sa, sb } = await trio(suite);
    await joinHorseTrust(sb, conv);
    const bSaw = record(sb, 'new_message');
    const payload = { conversation_id: conv, text: 'once', client_message_id: 'c-1' };

    const first = await emitAck(sa, 'send_message', payload);
    const second = await emitAck(sa, 'send_message', payload);

    expect(second).toEqual(first);
    expect(first).toMatchObject({
      success: true,
      data: { client_message_id: 'c-1', _id: expect.stringMatching(OBJECT_ID) },
    });
    expect(await Message.countDocuments()).toBe(1);
    await settle(QUIET_MS);
    expect(bSaw).toHaveLength(1);
  });
});
