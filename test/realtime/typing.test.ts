import { Types } from 'mongoose';
import { TYPING_EVENTS_PER_SEC } from '../../src/realtime/handlers/typing.handlers';
import { emitAck, nextEvent, settle } from '../helpers/realtime';
import {
  QUIET_MS,
  expectRefused,
  joinHorseTrust,
  joinKarmyq,
  namesOf,
  recordAll,
  trio,
  useRealtimeSuite,
} from '../helpers/realtime-suite';

describe('typing indicators', () => {
  const suite = useRealtimeSuite();

  it('relays typing / stop_typing (Horse Trust) as user_typing / user_stop_typing {userId} to the others only', async () => {
    const { a, conv, sa, sb, so } = await trio(suite);
    const sa2 = await suite.connect(a.token); // a's second device, in the room too
    await Promise.all([
      joinHorseTrust(sa, conv),
      joinHorseTrust(sa2, conv),
      joinHorseTrust(sb, conv),
    ]);
    const [aSaw, a2Saw, outsiderSaw] = [recordAll(sa), recordAll(sa2), recordAll(so)];
    const typing = nextEvent(sb, 'user_typing');

    expect(await emitAck(sa, 'typing', conv)).toEqual({
      success: true,
      data: { conversation_id: conv },
    });
    expect(await typing).toEqual({ conversation_id: conv, userId: a.id });

    const stopped = nextEvent(sb, 'user_stop_typing');
    sa.emit('stop_typing', conv); // the seed emits without an ack
    expect(await stopped).toEqual({ conversation_id: conv, userId: a.id });

    await settle(QUIET_MS);
    expect(namesOf(aSaw)).toEqual([]);
    expect(namesOf(a2Saw)).toEqual([]);
    expect(outsiderSaw).toEqual([]);
  });

  it('relays typing_start / typing_stop (Karmyq) with the server’s user_name, never the client’s', async () => {
    const { a, b, conv, sa, sb, so } = await trio(suite);
    const sa2 = await suite.connect(a.token);
    await Promise.all([
      joinKarmyq(sa, conv, a.id),
      joinKarmyq(sa2, conv, a.id),
      joinKarmyq(sb, conv, b.id),
    ]);
    const [aSaw, a2Saw, outsiderSaw] = [recordAll(sa), recordAll(sa2), recordAll(so)];
    const typing = nextEvent(sb, 'user_typing');

    const start = { conversation_id: conv, user_id: a.id, user_name: 'Somebody Else' };
    expect(await emitAck(sa, 'typing_start', start)).toEqual({
      success: true,
      data: { conversation_id: conv },
    });
    expect(await typing).toEqual({ conversation_id: conv, user_id: a.id, user_name: a.full_name });

    const stopped = nextEvent(sb, 'user_stopped_typing');
    expect(
      (await emitAck(sa, 'typing_stop', { conversation_id: conv, user_id: a.id })).success,
    ).toBe(true);
    expect(await stopped).toEqual({ conversation_id: conv, user_id: a.id, user_name: a.full_name });

    await settle(QUIET_MS);
    expect(namesOf(aSaw)).toEqual([]);
    expect(namesOf(a2Saw)).toEqual([]);
    expect(outsiderSaw).toEqual([]);
  });

  it('delivers one indicator to each dialect room in its own shape', async () => {
    const { a, b, conv, sa, sb, so } = await trio(suite);
    const sbKarmyq = await suite.connect(b.token);
    await Promise.all([joinHorseTrust(sb, conv), joinKarmyq(sbKarmyq, conv, b.id)]);
    const [bSaw, bKarmyqSaw, outsiderSaw] = [recordAll(sb), recordAll(sbKarmyq), recordAll(so)];

    await emitAck(sa, 'typing_start', {
      conversation_id: conv,
      user_id: a.id,
      user_name: a.full_name,
    });
    await emitAck(sa, 'stop_typing', conv);

    await settle(QUIET_MS);
    expect(bSaw.map((r) => [r.event, r.args])).toEqual([
      ['user_typing', [{ conversation_id: conv, userId: a.id }]],
      ['user_stop_typing', [{ conversation_id: conv, userId: a.id }]],
    ]);
    expect(bKarmyqSaw.map((r) => [r.event, r.args])).toEqual([
      ['user_typing', [{ conversation_id: conv, user_id: a.id, user_name: a.full_name }]],
      ['user_stopped_typing', [{ conversation_id: conv, user_id: a.id, user_name: a.full_name }]],
    ]);
    expect(outsiderSaw).toEqual([]);
  });

  it('refuses the outsider’s typing, typing that claims another user, or no valid conversation; nobody hears', async () => {
    const { a, b, outsider, conv, sa, sb, so } = await trio(suite);
    await Promise.all([joinHorseTrust(sa, conv), joinKarmyq(sb, conv, b.id)]);
    const seen = [recordAll(sa), recordAll(sb), recordAll(so)];

    for (const event of ['typing', 'stop_typing'] as const) {
      expectRefused(await emitAck(so, event, conv), 'Conversation not found');
    }
    for (const event of ['typing_start', 'typing_stop'] as const) {
      expectRefused(
        await emitAck(so, event, { conversation_id: conv, user_id: outsider.id, user_name: 'x' }),
        'Conversation not found',
      );
    }
    so.emit('typing', conv); // without an ack too
    expectRefused(
      await emitAck(sb, 'typing_start', {
        conversation_id: conv,
        user_id: a.id,
        user_name: a.full_name,
      }),
      /user_id/,
    );
    expectRefused(await emitAck(sb, 'typing', 'not-an-id'), /conversation_id/);
    expectRefused(
      await emitAck(sb, 'typing', new Types.ObjectId().toString()),
      'Conversation not found',
    );

    await settle(QUIET_MS);
    expect(seen).toEqual([[], [], []]);
  });

  it(`relays at most ${TYPING_EVENTS_PER_SEC} typing starts a second per user and refuses the rest, not the stop after them`, async () => {
    const { conv, sa, sb } = await trio(suite);
    await Promise.all([joinHorseTrust(sa, conv), joinHorseTrust(sb, conv)]);
    const bSaw = recordAll(sb);

    const acks = await Promise.all(
      Array.from({ length: TYPING_EVENTS_PER_SEC + 5 }, () => emitAck(sa, 'typing', conv)),
    );
    await settle(QUIET_MS);

    expect(acks.filter((ack) => ack.success)).toHaveLength(TYPING_EVENTS_PER_SEC);
    expect(acks.filter((ack) => !ack.success)).toEqual(
      Array(5).fill(expect.objectContaining({ success: false, code: 'RATE_LIMITED' })),
    );
    expect(namesOf(bSaw)).toEqual(Array(TYPING_EVENTS_PER_SEC).fill('user_typing'));
    // Stops are never refused, so "is typing" always ends.
    expect(await emitAck(sa, 'stop_typing', conv)).toMatchObject({ success: true });
    await settle(QUIET_MS);
    expect(namesOf(bSaw).at(-1)).toBe('user_stop_typing');
  });

  it(`bounds typing stops too, at ${TYPING_EVENTS_PER_SEC * 3} a second per user, apart from the starts’ budget`, async () => {
    const { conv, sa, sb } = await trio(suite);
    await Promise.all([joinHorseTrust(sa, conv), joinHorseTrust(sb, conv)]);
    const bSaw = recordAll(sb);
    const stopsBudget = TYPING_EVENTS_PER_SEC * 3;

    const acks = await Promise.all(
      Array.from({ length: stopsBudget + 5 }, () => emitAck(sa, 'stop_typing', conv)),
    );
    const start = await emitAck(sa, 'typing', conv);
    await settle(QUIET_MS);

    expect(acks.filter((ack) => ack.success)).toHaveLength(stopsBudget);
    expect(acks.filter((ack) => !ack.success)).toEqual(
      Array(5).fill(expect.objectContaining({ success: false, code: 'RATE_LIMITED' })),
    );
    expect(start).toMatchObject({ success: true });
    expect(namesOf(bSaw)).toEqual([...Array(stopsBudget).fill('user_stop_typing'), 'user_typing']);
  });

  it('never leaves an indicator on when a stop overtakes its start (the start’s check reads the database, the stop’s does not)', async () => {
    const { a, b, conv, sa, sb } = await trio(suite);
    const sbKarmyq = await suite.connect(b.token);
    // The typist is in the room, so its stops need no read; its first start in this
    // conversation still reads the participation (a cold cache).
    await Promise.all([
      joinHorseTrust(sa, conv),
      joinHorseTrust(sb, conv),
      joinKarmyq(sbKarmyq, conv, b.id),
    ]);
    const [bSaw, bKarmyqSaw] = [recordAll(sb), recordAll(sbKarmyq)];

    const acks = [
      emitAck(sa, 'typing', conv),
      emitAck(sa, 'stop_typing', conv),
      emitAck(sa, 'typing_start', { conversation_id: conv, user_id: a.id }),
      emitAck(sa, 'typing_stop', { conversation_id: conv, user_id: a.id }),
    ];
    // Every event was taken: an overtaken start is answered, just not relayed.
    for (const ack of await Promise.all(acks)) expect(ack).toMatchObject({ success: true });
    await settle(QUIET_MS);

    // Whatever was relayed, in order, ends with the last event the typist sent.
    for (const saw of [namesOf(bSaw), namesOf(bKarmyqSaw)]) {
      expect(saw.length).toBeGreaterThan(0);
      expect(saw[saw.length - 1]).toMatch(/^user_stop(ped)?_typing$/);
    }
    // A start that arrives after the stop is relayed again (the order is per event, not sticky).
    const typing = nextEvent(sb, 'user_typing');
    expect(await emitAck(sa, 'typing', conv)).toMatchObject({ success: true });
    expect(await typing).toEqual({ conversation_id: conv, userId: a.id });
  });

  it('relays typing from a participant who has not joined the room', async () => {
    const { a, conv, sa, sb, so } = await trio(suite);
    await joinHorseTrust(sb, conv);
    const outsiderSaw = recordAll(so);
    const typing = nextEvent(sb, 'user_typing');

    expect((await emitAck(sa, 'typing', conv)).success).toBe(true);

    expect(await typing).toEqual({ conversation_id: conv, userId: a.id });
    await settle(QUIET_MS);
    expect(outsiderSaw).toEqual([]);
  });
});
