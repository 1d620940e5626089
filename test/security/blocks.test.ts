import { Types } from 'mongoose';
import { Block, Conversation, Message } from '../../models';
import { createConversation, createUsers, type TestUser } from '../factories';
import { bodyOf, type SuccessEnvelope } from '../helpers/api';
import { emitAck, nextEvent, settle } from '../helpers/realtime';
import { QUIET_MS, joinHorseTrust, namesOf, recordAll } from '../helpers/realtime-suite';
import { expectEnvelope, storedCounts, useSecureServer } from './support';

interface BlockView {
  blocked_id: string;
  created_at: string;
}

describe('blocking a user', () => {
  const suite = useSecureServer();
  const blocks = (user: TestUser) => suite.as(user.token);

  /** A and B in a conversation, each with a socket joined to it. */
  async function pair() {
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);
    const [sa, sb] = await Promise.all([suite.connect(a.token), suite.connect(b.token)]);
    await Promise.all([joinHorseTrust(sa, conv), joinHorseTrust(sb, conv)]);
    return { a, b, conv, sa, sb };
  }

  it('blocks with 201 and lists the block for the blocker only', async () => {
    const [a, b] = await createUsers(2);

    const res = await blocks(b).post(`/blocks/${a.id}`);
    const mine = await blocks(b).get('/blocks');
    const theirs = await blocks(a).get('/blocks');

    expect(res.status).toBe(201);
    const created = bodyOf<SuccessEnvelope<BlockView>>(res).data;
    expect(created).toEqual({ blocked_id: a.id, created_at: expect.any(String) });
    expect(bodyOf<SuccessEnvelope<BlockView[]>>(mine).data).toEqual([created]);
    expect(bodyOf<SuccessEnvelope<BlockView[]>>(theirs).data).toEqual([]);
    expect(await Block.countDocuments({ blocker_id: b.id, blocked_id: a.id })).toBe(1);
  });

  it.each([
    ['yourself', 400, 'VALIDATION_FAILED', (self: TestUser) => self.id],
    ['an unknown user', 404, 'USER_NOT_FOUND', () => new Types.ObjectId().toString()],
    ['an invalid id', 400, 'VALIDATION_FAILED', () => 'not-an-id'],
    ['an operator in the path', 400, 'VALIDATION_FAILED', () => '%7B%22$ne%22:null%7D'],
  ])('refuses to block %s (%i), storing nothing', async (_label, status, code, target) => {
    const [a] = await createUsers(1);

    expectEnvelope(await blocks(a).post(`/blocks/${target(a)}`), status, code);

    expect(await Block.countDocuments()).toBe(0);
  });

  it('refuses the blocked user’s sends over REST and socket; nothing stored, nobody notified', async () => {
    const { a, b, conv, sa, sb } = await pair();
    expect((await blocks(b).post(`/blocks/${a.id}`)).status).toBe(201);
    const bSaw = recordAll(sb);
    const before = await storedCounts();

    const rest = await blocks(a).post(`/conversations/${conv}/messages`, { text: 'let me in' });
    const ack = await emitAck(sa, 'send_message', { conversation_id: conv, text: 'please' });
    const karmyq = await emitAck(sa, 'send_message', {
      conversation_id: conv,
      sender_id: a.id,
      content: 'karmyq',
    });

    expectEnvelope(rest, 403, 'BLOCKED');
    expect(ack).toEqual({ success: false, message: expect.any(String), code: 'BLOCKED' });
    expect(karmyq).toMatchObject({ success: false, code: 'BLOCKED' });
    expect(await storedCounts()).toEqual(before);
    await settle(QUIET_MS);
    expect(namesOf(bSaw)).toEqual([]);
  });

  it('still lets the blocker send to the blocked user', async () => {
    const { a, b, conv, sa } = await pair();
    await blocks(b).post(`/blocks/${a.id}`);
    const received = nextEvent(sa, 'new_message');

    const res = await blocks(b).post(`/conversations/${conv}/messages`, { text: 'go away' });

    expect(res.status).toBe(201);
    expect(await received).toMatchObject({ text: 'go away' });
    expect(await Message.countDocuments({ sender_id: b.id })).toBe(1);
  });

  it('relays none of the blocked user’s typing starts (either dialect) but lets their stops end an indicator', async () => {
    const { a, b, conv, sa, sb } = await pair();
    const typedBefore = nextEvent(sb, 'user_typing');
    expect((await emitAck(sa, 'typing', conv)).success).toBe(true);
    await typedBefore;
    expect((await blocks(b).post(`/blocks/${a.id}`)).status).toBe(201);
    const bSaw = recordAll(sb);

    const horseTrust = await emitAck(sa, 'typing', conv);
    const karmyq = await emitAck(sa, 'typing_start', { conversation_id: conv, user_id: a.id });
    const stop = await emitAck(sa, 'stop_typing', conv);
    const blockerTyping = nextEvent(sa, 'user_typing');
    const blockerStart = await emitAck(sb, 'typing', conv);

    expect(horseTrust).toEqual({ success: false, message: expect.any(String), code: 'BLOCKED' });
    expect(karmyq).toMatchObject({ success: false, code: 'BLOCKED' });
    expect(stop).toMatchObject({ success: true });
    expect(blockerStart).toMatchObject({ success: true });
    expect(await blockerTyping).toEqual({ conversation_id: conv, userId: b.id });
    await settle(QUIET_MS);
    expect(namesOf(bSaw)).toEqual(['user_stop_typing']);
  });

  it('refuses a new conversation from the blocked user while blocked, and only for them', async () => {
    const [a, b, c] = await createUsers(3);
    await createConversation([a, b]);
    await blocks(b).post(`/blocks/${a.id}`);
    const before = await storedCounts();

    const aboutListing = await blocks(a).post('/conversations', {
      recipient_id: b.id,
      listing_id: 'listing-2',
    });
    const group = await blocks(a).post('/conversations', { participant_ids: [b.id, c.id] });
    const withOthers = await blocks(a).post('/conversations', { recipient_id: c.id });

    expectEnvelope(aboutListing, 403, 'BLOCKED');
    expectEnvelope(group, 403, 'BLOCKED');
    expect(withOthers.status).toBe(201);
    expect(await storedCounts()).toEqual({ ...before, conversations: before.conversations + 1 });
  });

  it('keeps refusing the blocked user in a conversation the blocker opens later', async () => {
    const [a, b] = await createUsers(2);
    await blocks(b).post(`/blocks/${a.id}`);
    const opened = await blocks(b).post('/conversations', { recipient_id: a.id });
    const conv = bodyOf<SuccessEnvelope<{ _id: string }>>(opened).data._id;

    const res = await blocks(a).post(`/conversations/${conv}/messages`, { text: 'hi' });

    expect(opened.status).toBe(201);
    expectEnvelope(res, 403, 'BLOCKED');
    expect(await Message.countDocuments()).toBe(0);
  });

  it('refuses to add someone who blocked the caller to a conversation; nothing changes', async () => {
    const [carol, mallory, eve] = await createUsers(3);
    await blocks(carol).post(`/blocks/${mallory.id}`);
    const conv = await createConversation([mallory, eve]);

    const res = await blocks(mallory).post(`/conversations/${conv}/participants`, {
      user_id: carol.id,
    });

    expectEnvelope(res, 403, 'BLOCKED');
    const stored = await Conversation.findById(conv).lean();
    expect(stored?.participants.map(String)).toEqual([mallory.id, eve.id]);
    expect(stored?.blocks).toEqual([]);
  });

  it('keeps a newcomer’s blocks when someone else adds them: the blocked member cannot send', async () => {
    const [carol, mallory, eve] = await createUsers(3);
    await blocks(carol).post(`/blocks/${mallory.id}`);
    const conv = await createConversation([mallory, eve]);

    const added = await blocks(eve).post(`/conversations/${conv}/participants`, {
      user_id: carol.id,
    });
    const send = await blocks(mallory).post(`/conversations/${conv}/messages`, { text: 'hi' });

    expect(added.status).toBe(200);
    expectEnvelope(send, 403, 'BLOCKED');
    expect(await Message.countDocuments()).toBe(0);
    const stored = await Conversation.findById(conv).lean();
    expect(stored?.blocks?.map((b) => [String(b.blocker_id), String(b.blocked_id)])).toEqual([
      [carol.id, mallory.id],
    ]);
  });

  it('forgets a block undone while one of the pair was out of the conversation, once they are back', async () => {
    const [x, n, m] = await createUsers(3);
    const conv = await createConversation([x, n, m]);
    await blocks(x).post(`/blocks/${n.id}`).expect(201);
    await blocks(n).delete(`/conversations/${conv}/participants/${n.id}`).expect(200);
    await blocks(x).delete(`/blocks/${n.id}`).expect(200);

    await blocks(m).post(`/conversations/${conv}/participants`, { user_id: n.id }).expect(200);
    const send = await blocks(n).post(`/conversations/${conv}/messages`, { text: 'back' });

    expect(send.status).toBe(201);
    expect((await Conversation.findById(conv).lean())?.blocks).toEqual([]);
  });

  it('unblocking lets the user send again, with the new_message and the notification', async () => {
    const { a, b, conv, sa } = await pair();
    await blocks(b).post(`/blocks/${a.id}`);
    const sbOther = await suite.connect(b.token);
    const live = nextEvent(sbOther, 'message_notification');

    const unblock = await blocks(b).delete(`/blocks/${a.id}`);
    const again = await blocks(b).delete(`/blocks/${a.id}`);
    const ack = await emitAck(sa, 'send_message', { conversation_id: conv, text: 'friends?' });

    expect(bodyOf<SuccessEnvelope<object>>(unblock).data).toEqual({
      blocked_id: a.id,
      removed: true,
    });
    expect(bodyOf<SuccessEnvelope<object>>(again).data).toEqual({
      blocked_id: a.id,
      removed: false,
    });
    expect(ack.success).toBe(true);
    expect(await live).toMatchObject({ conversation_id: conv, preview: 'friends?' });
    expect(await Block.countDocuments()).toBe(0);
    expect((await Conversation.findById(conv).lean())?.blocks).toEqual([]);
  });

  it('is idempotent, even when repeated concurrently', async () => {
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);

    const first = await blocks(b).post(`/blocks/${a.id}`);
    const repeats = await Promise.all([1, 2, 3, 4].map(() => blocks(b).post(`/blocks/${a.id}`)));
    const upper = await blocks(b).post(`/blocks/${a.id.toUpperCase()}`);

    const created = bodyOf<SuccessEnvelope<BlockView>>(first).data;
    for (const res of [...repeats, upper]) {
      expect(res.status).toBe(201);
      expect(bodyOf<SuccessEnvelope<BlockView>>(res).data).toEqual(created);
    }
    expect(await Block.countDocuments()).toBe(1);
    expect((await Conversation.findById(conv).lean())?.blocks).toHaveLength(1);
    expect(bodyOf<SuccessEnvelope<BlockView[]>>(await blocks(b).get('/blocks')).data).toHaveLength(
      1,
    );
  });

  it('records both blocks when two users block each other at the same time', async () => {
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);

    const [ab, ba] = await Promise.all([
      blocks(a).post(`/blocks/${b.id}`),
      blocks(b).post(`/blocks/${a.id}`),
    ]);

    expect([ab.status, ba.status]).toEqual([201, 201]);
    expect(await Block.countDocuments()).toBe(2);
    expect((await Conversation.findById(conv).lean())?.blocks).toHaveLength(2);
    for (const [from, text] of [
      [a, 'x'],
      [b, 'y'],
    ] as const) {
      expectEnvelope(
        await blocks(from).post(`/conversations/${conv}/messages`, { text }),
        403,
        'BLOCKED',
      );
    }
  });
});
