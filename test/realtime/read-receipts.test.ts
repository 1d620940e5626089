import { Message } from '../../models';
import type { MessagesReadPayload } from '../../src/realtime/contract';
import { createConversation, createUsers, insertMessages } from '../factories';
import { emitAck, nextEvent, record, settle, waitFor } from '../helpers/realtime';
import {
  ISO_DATE,
  QUIET_MS,
  joinHorseTrust,
  recordAll,
  trio,
  useRealtimeSuite,
  type Trio,
} from '../helpers/realtime-suite';

describe('read receipts (messages_read)', () => {
  const suite = useRealtimeSuite();

  /** a has sent two messages that b has not read; everyone is connected, a has not joined the room. */
  async function unreadByB(): Promise<Trio & { ids: string[] }> {
    const t = await trio(suite);
    const ids = await insertMessages(t.conv, [t.a], 2);
    return { ...t, ids };
  }

  const receipt = (
    t: Trio,
    seq: number,
    messageId: string,
  ): Record<keyof MessagesReadPayload, unknown> => ({
    conversation_id: t.conv,
    reader_id: t.b.id,
    read_up_to_seq: seq,
    read_up_to_message_id: messageId,
    read_at: expect.stringMatching(ISO_DATE),
  });

  it('tells the sender when the reader fetches history over REST, once', async () => {
    const t = await unreadByB();
    const [toA, toB, outsiderSaw] = [
      record(t.sa, 'messages_read'),
      record(t.sb, 'messages_read'),
      recordAll(t.so),
    ];

    const res = await suite.rest(t.b).get(`/conversations/${t.conv}/messages`).expect(200);

    expect(res.body).toMatchObject({ success: true, data: [{ is_read: true }, { is_read: true }] });
    await waitFor(() => toA.length === 1);
    expect(toA[0]).toEqual(receipt(t, 2, t.ids[1]));
    expect(await Message.countDocuments({ is_read: true })).toBe(2);
    const readAt = (await Message.findById(t.ids[1]).lean())?.read_at;
    expect(readAt?.toISOString()).toBe(toA[0].read_at);

    // Nothing new: a second fetch sends no second receipt.
    await suite.rest(t.b).get(`/conversations/${t.conv}/messages`).expect(200);
    await settle(QUIET_MS);
    expect(toA).toHaveLength(1);
    expect(toB).toEqual([]);
    expect(outsiderSaw).toEqual([]);
  });

  it('sends a new receipt once something new has been read', async () => {
    const t = await unreadByB();
    await joinHorseTrust(t.sb, t.conv);
    const toA = record(t.sa, 'messages_read');
    await suite.rest(t.b).get(`/conversations/${t.conv}/messages`).expect(200);
    await waitFor(() => toA.length === 1);

    const ack = await emitAck(t.sa, 'send_message', { conversation_id: t.conv, text: 'third' });
    const third = (ack as { data: { _id: string } }).data._id;
    await suite.rest(t.b).get(`/conversations/${t.conv}/messages`).expect(200);

    await waitFor(() => toA.length === 2);
    expect(toA[1]).toEqual(receipt(t, 3, third));
  });

  it('tells the sender when the reader posts /read', async () => {
    const t = await unreadByB();
    const [toB, outsiderSaw] = [record(t.sb, 'messages_read'), recordAll(t.so)];
    const toA = nextEvent(t.sa, 'messages_read');

    const res = await suite.rest(t.b).post(`/conversations/${t.conv}/read`).expect(200);

    expect(await toA).toEqual(receipt(t, 2, t.ids[1]));
    expect(res.body).toMatchObject({
      success: true,
      data: { reader_id: t.b.id, read_up_to_seq: 2, marked_count: 2 },
    });
    expect(await Message.countDocuments({ is_read: false })).toBe(0);
    await settle(QUIET_MS);
    expect(toB).toEqual([]);
    expect(outsiderSaw).toEqual([]);
  });

  it.each<[string, (t: Trio) => unknown]>([
    ['a bare id', (t) => t.conv],
    ['{conversation_id, user_id}', (t) => ({ conversation_id: t.conv, user_id: t.b.id })],
  ])('tells the sender when the reader emits mark_read with %s', async (_how, payload) => {
    const t = await unreadByB();
    const [toA, toB, outsiderSaw] = [
      record(t.sa, 'messages_read'),
      record(t.sb, 'messages_read'),
      recordAll(t.so),
    ];

    const ack = await emitAck(t.sb, 'mark_read', payload(t));

    expect(ack).toEqual({
      success: true,
      data: { ...receipt(t, 2, t.ids[1]), marked_count: 2 },
    });
    await waitFor(() => toA.length === 1);
    expect(toA[0]).toEqual(receipt(t, 2, t.ids[1]));
    // A repeat marks nothing and announces nothing.
    expect(await emitAck(t.sb, 'mark_read', payload(t))).toMatchObject({
      success: true,
      data: { marked_count: 0 },
    });
    await settle(QUIET_MS);
    expect(toA).toHaveLength(1);
    expect(toB).toEqual([]);
    expect(outsiderSaw).toEqual([]);
  });

  it('refuses mark_read from the outsider or for another user, and marks nothing', async () => {
    const t = await unreadByB();
    const seen = [recordAll(t.sa), recordAll(t.sb), recordAll(t.so)];

    expect(await emitAck(t.so, 'mark_read', t.conv)).toMatchObject({
      success: false,
      message: 'Conversation not found',
    });
    const spoof = await emitAck(t.sa, 'mark_read', { conversation_id: t.conv, user_id: t.b.id });
    expect(spoof).toMatchObject({
      success: false,
      message: 'user_id does not match the authenticated user',
    });
    await suite.rest(t.outsider).get(`/conversations/${t.conv}/messages`).expect(404);

    expect(await Message.countDocuments({ is_read: true })).toBe(0);
    await settle(QUIET_MS);
    expect(seen).toEqual([[], [], []]);
  });

  it('tells the sender when a member reads messages a departed member had marked read (a group shrunk to two), and not for the reader’s own', async () => {
    const [a, b, c] = await createUsers(3);
    const conv = await createConversation([a, b, c]);
    const [sa, sb] = await Promise.all([a, b].map((u) => suite.connect(u.token)));
    await insertMessages(conv, [a], 1);
    // c reads (the message becomes is_read) and leaves: a 1:1 between a and b remains.
    await suite.rest(c).post(`/conversations/${conv}/read`).expect(200);
    await suite.rest(c).delete(`/conversations/${conv}/participants/${c.id}`).expect(200);
    const aReceipts = record(sa, 'messages_read');

    const read = await emitAck(sb, 'mark_read', conv);

    expect(read).toMatchObject({ success: true, data: { read_up_to_seq: 1, marked_count: 0 } });
    await waitFor(() => aReceipts.length === 1);
    expect(aReceipts[0]).toMatchObject({
      conversation_id: conv,
      reader_id: b.id,
      read_up_to_seq: 1,
    });

    // b's horizon passing only b's own message is not news to a.
    const bReceipts = record(sb, 'messages_read');
    await emitAck(sb, 'send_message', { conversation_id: conv, text: 'mine' });
    await suite.rest(b).get(`/conversations/${conv}/messages`).expect(200);
    await settle(QUIET_MS);
    expect(aReceipts).toHaveLength(1);
    expect(bReceipts).toEqual([]);
  });
});
