import { ChangeClock } from '../../src/chat';
import { createConversation, createUsers } from '../factories';
import { client } from '../helpers/api';
import { buildTestApp } from '../helpers/app';
import { cursorNow, sendAs, settle, sync } from '../helpers/sync';

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('GET /api/chat/sync cursors under concurrent and unsettled writes', () => {
  it('never skips a message sent right after its cursor was issued', async () => {
    const { app } = buildTestApp();
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    const api = client(app, bob.token);
    const handoffs: Array<{ cursor: string; id: string }> = [];

    for (let i = 0; i < 20; i++) {
      const { cursor } = await sync(api);
      handoffs.push({ cursor, id: (await sendAs(app, alice, conversationId, `race ${i}`))._id });
    }

    for (const { cursor, id } of handoffs) {
      expect((await sync(api, cursor, 500)).messages.map((m) => m._id)).toContain(id);
    }
  });

  it('hands out messages from a lost seq race at once, each once', async () => {
    const { app } = buildTestApp();
    const users = await createUsers(10);
    const conversationId = await createConversation(users);
    const api = client(app, users[0].token);
    const cursor = await cursorNow(api);

    await Promise.all(users.map((u, i) => sendAs(app, u, conversationId, `racer ${i}`)));
    await settle();
    const data = await sync(api, cursor);

    expect(data.has_more).toBe(false);
    expect(data.messages.map((m) => m.seq).sort((a, b) => a - b)).toEqual(range(1, 10));
  });

  it('holds back a change behind an unsettled write, then hands it out exactly once', async () => {
    const { app, chat } = buildTestApp({ clock: new ChangeClock(0, 150) });
    const [alice, bob] = await createUsers(2);
    const conversationId = await createConversation([alice, bob]);
    const api = client(app, bob.token);
    const cursor = await cursorNow(api);
    // A write that failed in flight may still commit: the horizon waits for it (150 ms here).
    await expect(
      chat.clock.stamp(() => Promise.reject(new Error('connection reset'))),
    ).rejects.toThrow();
    const late = await sendAs(app, alice, conversationId, 'after the unsettled write');
    await settle();

    const held = await sync(api, cursor);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const released = await sync(api, held.cursor);
    const after = await sync(api, released.cursor);

    expect(held.messages).toEqual([]);
    expect([...released.messages, ...after.messages].map((m) => m._id)).toEqual([late._id]);
  });
});
