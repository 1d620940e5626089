import request from 'supertest';
import type { Socket } from 'socket.io-client';
import { Conversation, Message } from '../../models';
import { userRoom } from '../../src/realtime/rooms';
import { createConversation } from '../factories';
import {
  CLIENT_EVENTS,
  badForEveryEvent,
  badSends,
  badUnlessLeaving,
  type BadCase,
  type ClientEvent,
} from '../helpers/bad-payloads';
import { emitAck, nextEvent, settle } from '../helpers/realtime';
import {
  QUIET_MS,
  joinHorseTrust,
  recordAll,
  trio,
  useRealtimeSuite,
  type Trio,
} from '../helpers/realtime-suite';

interface Attempt {
  event: ClientEvent;
  label: string;
  extras: boolean;
  ack: unknown;
}

/** An ack that is not the refusal envelope, or a refusal that hides a server fault. */
function isProperRefusal(ack: unknown): boolean {
  if (typeof ack !== 'object' || ack === null) return false;
  const body = ack as { success?: unknown; message?: unknown; code?: unknown };
  return (
    body.success === false &&
    typeof body.message === 'string' &&
    body.message.length > 0 &&
    body.code !== 'INTERNAL'
  );
}

describe('malformed payloads', () => {
  const suite = useRealtimeSuite();
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  beforeAll(() => process.on('unhandledRejection', onRejection));
  afterAll(() => process.off('unhandledRejection', onRejection));

  async function casesFor(t: Trio): Promise<Array<{ event: ClientEvent } & BadCase>> {
    const foreignConv = await createConversation([t.b, t.outsider]);
    const ids = { conv: t.conv, self: t.a.id, other: t.b.id, foreignConv };
    const cases: Array<{ event: ClientEvent } & BadCase> = [];
    for (const event of CLIENT_EVENTS) {
      for (const c of badForEveryEvent(ids)) cases.push({ event, ...c });
      if (event !== 'leave_conversation')
        for (const c of badUnlessLeaving(ids)) cases.push({ event, ...c });
    }
    for (const c of badSends(ids)) cases.push({ event: 'send_message', ...c });
    return cases;
  }

  it('refuses hundreds of bad payloads on every event, with and without acks and extra arguments; the server stays up', async () => {
    const t = await trio(suite);
    await joinHorseTrust(t.sb, t.conv);
    const [bSaw, outsiderSaw] = [recordAll(t.sb), recordAll(t.so)];
    const aSaw = recordAll(t.sa);
    const cases = await casesFor(t);
    expect(cases.length).toBeGreaterThan(600);
    const raw = t.sa as unknown as Socket; // untyped view: extra arguments are outside the contract on purpose

    // Without an ack callback: must not crash anything.
    for (const c of cases) raw.emit(c.event, c.payload);
    for (const c of cases) raw.emit(c.event, c.payload, 'extra', 42, { nested: { $ne: null } });
    // With an ack, plain and with extra arguments before it, all in flight at once.
    const attempts: Array<Promise<Attempt>> = [];
    for (const c of cases) {
      const base = { event: c.event, label: c.label };
      attempts.push(
        emitAck(t.sa, c.event, c.payload, 10_000).then((ack) => ({ ...base, extras: false, ack })),
      );
      attempts.push(
        raw
          .timeout(10_000)
          .emitWithAck(c.event, c.payload, null, ['x'], 'extra')
          .then((ack: unknown) => ({ ...base, extras: true, ack })),
      );
    }
    // An ack callback with no payload at all.
    for (const event of CLIENT_EVENTS) {
      attempts.push(
        raw
          .timeout(10_000)
          .emitWithAck(event)
          .then((ack: unknown) => ({ event, label: 'no payload', extras: false, ack })),
      );
    }
    const results = await Promise.all(attempts);

    const improper = results.filter((r) => !isProperRefusal(r.ack));
    expect(improper).toEqual([]);
    expect(results.length).toBeGreaterThan(1200);

    // Nothing stored, no room joined, nobody told, no prototype polluted.
    expect(await Message.countDocuments()).toBe(0);
    expect(
      (await Conversation.findById(t.conv).lean())?.members.every((m) => m.read_seq === 0),
    ).toBe(true);
    const [serverSide] = await suite.server.realtime.io.in(t.sa.id!).fetchSockets();
    expect([...serverSide.rooms].sort()).toEqual([t.sa.id, userRoom(t.a.id)].sort());
    expect(Object.prototype).not.toHaveProperty('text');
    expect(Object.prototype).not.toHaveProperty('conversation_id');
    await settle(QUIET_MS);
    expect(aSaw).toEqual([]);
    expect(bSaw).toEqual([]);
    expect(outsiderSaw).toEqual([]);

    // The same socket still completes a valid send, and REST still answers.
    const received = nextEvent(t.sb, 'new_message');
    expect(
      await emitAck(t.sa, 'send_message', { conversation_id: t.conv, text: 'still alive' }),
    ).toMatchObject({
      success: true,
      data: { text: 'still alive', seq: 1 },
    });
    expect(await received).toMatchObject({ text: 'still alive', sender_id: { _id: t.a.id } });
    expect((await request(suite.server.http).get('/health')).status).toBe(200);
    expect(rejections).toEqual([]);
  });

  it('drops only the connection that sends an oversized frame', async () => {
    const t = await trio(suite);
    await joinHorseTrust(t.sb, t.conv);
    const outsiderSaw = recordAll(t.so);
    const bSaw = recordAll(t.sb);
    const dropped = new Promise<string>((resolve) => t.sa.once('disconnect', resolve));

    t.sa.emit('send_message', { conversation_id: t.conv, text: 'x'.repeat(200_000) });

    expect(await dropped).toMatch(/transport (close|error)/);
    expect(await Message.countDocuments()).toBe(0);
    const again = await suite.connect(t.a.token);
    expect(
      await emitAck(again, 'send_message', { conversation_id: t.conv, text: 'reconnected' }),
    ).toMatchObject({ success: true });
    expect((await request(suite.server.http).get('/health')).status).toBe(200);
    await settle(QUIET_MS);
    expect(bSaw.map((r) => r.event).sort()).toEqual(['message_notification', 'new_message']);
    expect(outsiderSaw).toEqual([]);
  });
});
