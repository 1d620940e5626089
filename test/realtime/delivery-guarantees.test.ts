import { Message } from '../../models';
import { createConversation, createUsers } from '../factories';
import type { MessageView } from '../../src/chat/types';
import type { SyncResult } from '../../src/chat/sync.service';
import {
  connectReconnecting,
  emitAck,
  record,
  settle,
  waitFor,
  type ClientSocket,
} from '../helpers/realtime';
import {
  expectRefused,
  joinHorseTrust,
  recordAll,
  trio,
  useRealtimeSuite,
  QUIET_MS,
} from '../helpers/realtime-suite';

describe('delivery guarantees over sockets and REST', () => {
  const suite = useRealtimeSuite();

  it('stores one message for a client_message_id sent 10 times at once over REST and socket together', async () => {
    const { a, conv, sa, sb } = await trio(suite);
    await joinHorseTrust(sb, conv);
    const bSaw = record(sb, 'new_message');
    const body = { text: 'Is Thunder still for sale?', client_message_id: 'retry-0001' };

    const viaRest = Array.from({ length: 5 }, () =>
      suite.rest(a).post(`/conversations/${conv}/messages`, body),
    );
    const viaSocket = Array.from({ length: 5 }, () =>
      emitAck(sa, 'send_message', { conversation_id: conv, ...body }),
    );
    const [restAnswers, socketAcks] = await Promise.all([
      Promise.all(viaRest),
      Promise.all(viaSocket),
    ]);

    const ids = new Set([
      ...restAnswers.map((r) => (r.body as { data: { _id: string } }).data._id),
      ...socketAcks.map((ack) => (ack.success ? (ack.data as MessageView)._id : 'refused')),
    ]);
    expect(ids.size).toBe(1);
    expect(await Message.countDocuments({ conversation_id: conv })).toBe(1);
    await settle(QUIET_MS);
    expect(bSaw).toHaveLength(1);
  });

  it('marks a message delivered when the recipient acknowledges it with message_received, and tells the sender', async () => {
    const { a, b, conv, sa, sb, so } = await trio(suite);
    await joinHorseTrust(sb, conv);
    sb.on('new_message', (message) => {
      sb.emit('message_received', {
        conversation_id: conv,
        message_id: (message as MessageView)._id,
      });
    });
    const delivered = record(sa, 'message_delivered');
    const outsiderSaw = record(so, 'message_delivered');

    const ack = await emitAck(sa, 'send_message', {
      conversation_id: conv,
      text: 'Sending the vet report now',
    });
    const messageId = (ack.success ? (ack.data as MessageView)._id : '') as string;
    await waitFor(() => delivered.length === 1);

    expect(delivered[0]).toMatchObject({
      conversation_id: conv,
      message_id: messageId,
      seq: 1,
      delivered_to: b.id,
      status: 'delivered',
    });
    const stored = await Message.findById(messageId).lean();
    expect(stored?.status).toBe('delivered');
    expect(stored?.delivered_at).toBeInstanceOf(Date);
    expect(stored?.is_read).toBe(false);
    await settle(QUIET_MS);
    expect(outsiderSaw).toHaveLength(0);
    expect(a.id).not.toBe(b.id);
  });

  it("acknowledges up to a seq, ignores the reader's own messages, and refuses outsiders and bad payloads", async () => {
    const { conv, sa, sb, so } = await trio(suite);
    for (const text of ['one', 'two', 'three'])
      await emitAck(sa, 'send_message', { conversation_id: conv, text });
    await emitAck(sb, 'send_message', { conversation_id: conv, text: 'reply' });
    const delivered = record(sa, 'message_delivered');

    expectRefused(await emitAck(so, 'message_received', { conversation_id: conv, up_to_seq: 3 }));
    for (const bad of [
      null,
      'x',
      { conversation_id: conv },
      { conversation_id: conv, up_to_seq: 0 },
      { conversation_id: conv, message_ids: ['nope'] },
    ]) {
      expectRefused(await emitAck(sb, 'message_received', bad));
    }
    expect(await Message.countDocuments({ conversation_id: conv, status: 'delivered' })).toBe(0);

    // A null message_id means absent, as every optional field's null does.
    const ack = await emitAck(sb, 'message_received', {
      conversation_id: conv,
      message_id: null,
      up_to_seq: 2,
    });
    expect(ack).toMatchObject({ success: true, data: { conversation_id: conv } });
    expect((ack.success ? (ack.data as { delivered: string[] }).delivered : []).length).toBe(2);
    await waitFor(() => delivered.length === 2);
    expect(delivered.map((d) => d.seq).sort()).toEqual([1, 2]);
    const states = await Message.find({ conversation_id: conv }).sort({ seq: 1 }).lean();
    expect(states.map((m) => m.status)).toEqual(['delivered', 'delivered', 'sent', 'sent']);

    // Acknowledging your own message changes nothing.
    const own = await emitAck(sa, 'message_received', { conversation_id: conv, up_to_seq: 3 });
    expect(own.success && (own.data as { delivered: string[] }).delivered).toEqual([]);
  });

  it('tells a sender who has since been removed nothing of the delivery (message_received or /sync); the status still moves', async () => {
    const [a, b, c] = await createUsers(3);
    const conv = await createConversation([a, b, c]);
    const [sb, sc] = await Promise.all([b, c].map((u) => suite.connect(u.token)));
    const start = (await suite.rest(b).get('/sync').expect(200)).body as { data: SyncResult };
    const sent = [];
    for (const text of ['first', 'second']) {
      sent.push(await emitAck(sc, 'send_message', { conversation_id: conv, text }));
    }
    const [first, second] = sent.map((ack) => (ack.success ? (ack.data as MessageView)._id : ''));
    // The creator removes c; c's socket stays connected.
    await suite.rest(a).delete(`/conversations/${conv}/participants/${c.id}`).expect(200);
    const cSaw = recordAll(sc);

    const ack = await emitAck(sb, 'message_received', { conversation_id: conv, message_id: first });
    expect(ack).toMatchObject({ success: true, data: { delivered: [first] } });
    const synced = await suite.rest(b).get(`/sync?since=${start.data.cursor}`).expect(200);
    // In change order: the acknowledged one moved after the other.
    expect((synced.body as { data: SyncResult }).data.messages.map((m) => m._id)).toEqual([
      second,
      first,
    ]);

    const states = await Message.find({ conversation_id: conv }).sort({ seq: 1 }).lean();
    expect(states.map((m) => m.status)).toEqual(['delivered', 'delivered']);
    await settle(QUIET_MS);
    expect(cSaw).toEqual([]);
  });

  it('leaves a message "sent" when no recipient device acknowledges it', async () => {
    const { conv, sa, sb } = await trio(suite);
    await joinHorseTrust(sb, conv);
    const delivered = record(sa, 'message_delivered');
    const received = record(sb, 'new_message');
    await emitAck(sa, 'send_message', {
      conversation_id: conv,
      text: 'Plain Horse Trust client, no ack',
    });
    await waitFor(() => received.length === 1);
    await settle(QUIET_MS);
    expect(delivered).toHaveLength(0);
    expect(await Message.countDocuments({ conversation_id: conv, status: 'sent' })).toBe(1);
  });

  it('loses and duplicates nothing when the recipient is cut off mid-stream and resyncs', async () => {
    const { a, b, conv, sa, sb } = await trio(suite);
    const view = new Map<string, MessageView>();
    const liveIds: string[] = [];
    const follow = async (socket: ClientSocket) => {
      socket.on('new_message', (message) => {
        const m = message as MessageView;
        liveIds.push(m._id);
        view.set(m._id, m);
      });
      await joinHorseTrust(socket, conv);
    };
    const syncFrom = async (since: string): Promise<string> => {
      let cursor = since;
      for (;;) {
        const res = await suite.rest(b).get(`/sync?since=${cursor}&limit=7`).expect(200);
        const page = (res.body as { data: SyncResult }).data;
        for (const m of page.messages) view.set(m._id, m);
        cursor = page.cursor;
        if (!page.has_more) return cursor;
      }
    };

    await follow(sb);
    const start = (await suite.rest(b).get('/sync').expect(200)).body as { data: SyncResult };
    let current: ClientSocket = sb;
    for (let i = 1; i <= 60; i++) {
      if (i === 21) current.disconnect(); // cut off: the sender keeps going
      if (i === 46) {
        current = await suite.connect(b.token); // back, while the sender is still sending
        await follow(current);
        await syncFrom(start.data.cursor);
      }
      const text = `lot ${i}`;
      if (i % 2)
        await suite
          .rest(a)
          .post(`/conversations/${conv}/messages`, { text, client_message_id: `m-${i}` })
          .expect(201);
      else
        await emitAck(sa, 'send_message', {
          conversation_id: conv,
          text,
          client_message_id: `m-${i}`,
        });
    }
    await waitFor(() => view.size >= 45);
    await syncFrom(start.data.cursor);

    const stored = await Message.find({ conversation_id: conv }).sort({ seq: 1 }).lean();
    expect(stored).toHaveLength(60);
    const finalView = [...view.values()].sort((x, y) => x.seq - y.seq);
    expect(finalView.map((m) => m._id)).toEqual(stored.map((m) => m._id.toString()));
    expect(finalView.map((m) => m.seq)).toEqual(stored.map((_m, i) => i + 1));
    expect(new Set(liveIds).size).toBe(liveIds.length); // no socket delivered a message twice
  });

  /**
   * A recipient joined to the conversation that has seen one broadcast (recovery
   * resumes from the last one a client saw), and a way to drop its transport
   * while the sender sends, resolving once the client has reconnected by itself.
   */
  async function recipientAfterOneMessage() {
    const { b, conv, sa } = await trio(suite);
    const sb = await connectReconnecting(suite.server.url, b.token);
    await joinHorseTrust(sb, conv);
    const received: string[] = [];
    sb.on('new_message', (m) => received.push((m as MessageView).text));
    const send = (text: string) => emitAck(sa, 'send_message', { conversation_id: conv, text });
    await send('before the drop');
    await waitFor(() => received.length === 1);
    const dropWhileSending = async (text: string) => {
      const reconnected = new Promise<void>((resolve) => sb.once('connect', () => resolve()));
      sb.io.engine.close(); // the transport drops; the client reconnects by itself
      await send(text);
      await reconnected;
    };
    return { sb, conv, received, send, dropWhileSending };
  }

  it('recovers rooms and missed room broadcasts after a brief network drop (connection state recovery)', async () => {
    const { sb, received, send, dropWhileSending } = await recipientAfterOneMessage();
    try {
      await dropWhileSending('sent while you were away');
      expect(sb.recovered).toBe(true);
      await waitFor(() => received.length === 2);

      // Still in the room without re-joining.
      await send('and after');
      await waitFor(() => received.length === 3);
      expect(received).toEqual(['before the drop', 'sent while you were away', 'and after']);
    } finally {
      sb.close();
    }
  });

  // Offsets are the server's 8-hex-digit prefix and a base-36 packet number (recovery-adapter.ts).
  it.each([
    ['an offset this server never gave', () => 'forged-offset'],
    ['an offset beyond the newest packet', (real: string) => `${real.slice(0, 8)}zzzz`],
    ['an offset with an unsafe packet number', (real: string) => `${real.slice(0, 8)}zzzzzzzzzzz`],
    ['a non-string offset', () => ({ $gt: '' })],
  ])('starts afresh, replaying nothing, when a reconnecting client sends %s', async (_, forge) => {
    const { sb, conv, received, send, dropWhileSending } = await recipientAfterOneMessage();
    try {
      // What the client presents on reconnection (socket.io-client keeps it here).
      const client = sb as unknown as { _lastOffset: unknown };
      expect(typeof client._lastOffset).toBe('string');
      client._lastOffset = forge(client._lastOffset as string);
      await dropWhileSending('sent while away');
      expect(sb.recovered).toBe(false);

      // Not recovered: no rooms restored, so nothing arrives until the client re-joins.
      await send('not in the room');
      await joinHorseTrust(sb, conv);
      await send('after re-joining');
      await waitFor(() => received.length === 2);
      expect(received).toEqual(['before the drop', 'after re-joining']);
    } finally {
      sb.close();
    }
  });
});
