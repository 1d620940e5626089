import fc from 'fast-check';
import type { Socket } from 'socket.io-client';
import request from 'supertest';
import { CLIENT_MESSAGE_ID_PATTERN } from '../../src/chat/rules';
import { Message } from '../../models';
import { createConversation, createUsers, insertMessages } from '../factories';
import { CLIENT_EVENTS, type ClientEvent } from '../helpers/bad-payloads';
import { emitAck, nextEvent, settle } from '../helpers/realtime';
import {
  QUIET_MS,
  joinHorseTrust,
  joinKarmyq,
  namesOf,
  recordAll,
} from '../helpers/realtime-suite';
import {
  FUZZ_RUNS,
  FUZZ_SEED,
  HEX24,
  hostileEntries,
  hostileValue,
  wrongShape,
} from './arbitraries';
import {
  prototypeIsClean,
  storedState,
  useSecureServer,
  watchUnhandledRejections,
} from './support';

/** Every client event, `authenticate` included. */
const EVENTS: ClientEvent[] = [...CLIENT_EVENTS, 'authenticate'];
type Mode = 'ack' | 'extra-arguments' | 'no-ack';

interface Ids {
  self: string;
  conv: string;
  messages: string[];
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
const isId = (v: unknown): v is string => typeof v === 'string' && HEX24.test(v);
const isSelf = (v: unknown, ids: Ids) =>
  v === undefined || v === null || (typeof v === 'string' && v.toLowerCase() === ids.self);
const isText = (v: unknown) =>
  typeof v === 'string' && v.trim().length >= 1 && v.trim().length <= 2000;

/**
 * Whether the payload might be accepted, per the documented contract (generous on
 * purpose): such payloads are skipped, so every payload the property runs is invalid.
 */
function mayBeAccepted(event: ClientEvent, payload: unknown, ids: Ids): boolean {
  const mine = (v: unknown) =>
    isId(v) && (event === 'leave_conversation' || v.toLowerCase() === ids.conv);
  if (event === 'authenticate') return false; // no generated value is a token
  if (event === 'send_message') {
    if (
      !isPlainObject(payload) ||
      !isSelf(payload.sender_id, ids) ||
      !mine(payload.conversation_id)
    )
      return false;
    const karmyq = payload.text === undefined && payload.content !== undefined;
    const cmid = payload.client_message_id;
    return (
      isText(karmyq ? payload.content : payload.text) &&
      (cmid === undefined ||
        cmid === null ||
        (typeof cmid === 'string' && CLIENT_MESSAGE_ID_PATTERN.test(cmid)))
    );
  }
  if (event === 'message_received') {
    if (!isPlainObject(payload) || !isId(payload.conversation_id)) return false;
    const list =
      payload.message_ids ?? (payload.message_id === undefined ? undefined : [payload.message_id]);
    if (list !== undefined) return Array.isArray(list) && list.length >= 1 && list.every(isId);
    return Number.isInteger(payload.up_to_seq) && Number(payload.up_to_seq) >= 1;
  }
  if (typeof payload === 'string') return mine(payload);
  return isPlainObject(payload) && isSelf(payload.user_id, ids) && mine(payload.conversation_id);
}

describe('socket fuzzing (fast-check)', () => {
  const suite = useSecureServer();
  const rejections = watchUnhandledRejections();

  async function fixture() {
    const [a, b, outsider] = await createUsers(3);
    const conv = await createConversation([a, b]);
    const foreign = await createConversation([b, outsider]);
    const messages = await insertMessages(conv, [b], 2);
    const [sa, sb, sk, so] = await Promise.all(
      [a, b, b, outsider].map((u) => suite.connect(u.token)),
    );
    await Promise.all([
      joinHorseTrust(sb, conv),
      joinKarmyq(sk, conv, b.id),
      joinHorseTrust(so, foreign),
    ]);
    const ids: Ids = { self: a.id, conv, messages };
    const realIds = [a.id, b.id, outsider.id, conv, foreign, ...messages];
    const watchers = [sa, sb, sk, so].map(recordAll);
    return { a, b, sa, sb, ids, realIds, watchers, state: await storedState() };
  }
  type Fixture = Awaited<ReturnType<typeof fixture>>;

  /** Emits one payload in one mode; checks the ack, the database and the prototype. */
  async function check(f: Fixture, event: ClientEvent, payload: unknown, mode: Mode) {
    const raw = f.sa as unknown as Socket; // untyped: extra arguments are outside the contract
    let ack: unknown = 'no ack expected';
    if (mode === 'ack') ack = await emitAck(f.sa, event, payload);
    else if (mode === 'extra-arguments')
      ack = await raw.timeout(5000).emitWithAck(event, payload, 'extra', { $ne: null }, [1]);
    else raw.emit(event, payload);
    // Without an ack: a round trip, and a moment for any (wrongful) write to land.
    if (mode === 'no-ack') await emitAck(f.sa, 'leave_conversation', '0'.repeat(24));
    if (mode === 'no-ack') await settle(25);
    // Taken before asserting, so that a failing run does not fail every shrinking run after it.
    const [before, after] = [f.state, await storedState()];
    f.state = after;

    if (mode !== 'no-ack') {
      const refusal = { success: false, message: expect.stringMatching(/./) };
      expect({ event, mode, ack }).toEqual({ event, mode, ack: expect.objectContaining(refusal) });
      expect((ack as { code?: unknown }).code).not.toBe('INTERNAL');
    }
    expect(after).toBe(before);
    expect(prototypeIsClean()).toBe(true);
  }

  /** After a property: nobody heard anything, and the same socket still sends. */
  async function expectQuietAndAlive(f: Fixture) {
    await settle(QUIET_MS);
    expect(await storedState()).toBe(f.state);
    expect(f.watchers.map(namesOf)).toEqual([[], [], [], []]);
    expect(rejections).toEqual([]);
    expect(f.sa.connected).toBe(true);
    expect((await request(suite.server.http).get('/health')).status).toBe(200);
    const received = nextEvent(f.sb, 'new_message');
    const ack = await emitAck(f.sa, 'send_message', {
      conversation_id: f.ids.conv,
      text: 'still fine',
    });
    expect(ack.success).toBe(true);
    expect(await received).toMatchObject({ text: 'still fine' });
    expect(await Message.countDocuments({ sender_id: f.a.id })).toBe(1);
  }

  const options = { numRuns: FUZZ_RUNS, seed: FUZZ_SEED };
  const mode = fc.constantFrom<Mode>('ack', 'ack', 'extra-arguments', 'no-ack');

  it('refuses random payloads on every event, storing nothing and telling nobody', async () => {
    const f = await fixture();
    const payload = fc.oneof(
      hostileValue(f.realIds),
      hostileEntries(f.realIds).map((entries) => Object.fromEntries(entries)),
      fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
    );
    const seen = new Set<ClientEvent>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...EVENTS), payload, mode, async (event, p, m) => {
        fc.pre(!mayBeAccepted(event, p, f.ids));
        seen.add(event);
        await check(f, event, p, m);
      }),
      options,
    );
    expect([...seen].sort()).toEqual([...EVENTS].sort());
    await expectQuietAndAlive(f);
  });

  it('refuses near-valid payloads (one field hostile or reshaped) on every event', async () => {
    const f = await fixture();
    const { self, conv, messages } = f.ids;
    const templates: Record<ClientEvent, Record<string, unknown>> = {
      join_conversation: { conversation_id: conv, user_id: self },
      leave_conversation: { conversation_id: conv, user_id: self },
      mark_read: { conversation_id: conv, user_id: self },
      typing: { conversation_id: conv, user_id: self },
      stop_typing: { conversation_id: conv, user_id: self },
      typing_start: { conversation_id: conv, user_id: self, user_name: 'A' },
      typing_stop: { conversation_id: conv, user_id: self, user_name: 'A' },
      send_message: { conversation_id: conv, text: 'hello', client_message_id: 'c-1' },
      message_received: { conversation_id: conv, message_ids: messages },
      authenticate: { token: 'x' },
    };
    const fields = [
      'conversation_id',
      'user_id',
      'text',
      'content',
      'sender_id',
      'client_message_id',
      'message_id',
      'message_ids',
      'up_to_seq',
      'token',
    ];
    const hostile = fc.oneof(hostileValue(f.realIds), wrongShape([...f.realIds, 'hello']));
    const payload = (event: ClientEvent) =>
      fc.oneof(
        fc
          .tuple(fc.constantFrom(...fields), hostile)
          .map(([k, v]) => ({ ...templates[event], [k]: v })),
        hostileEntries(f.realIds).map((entries) => ({
          ...templates[event],
          ...Object.fromEntries(entries),
        })),
      );
    const cases = fc.oneof(...EVENTS.map((event) => fc.tuple(fc.constant(event), payload(event))));
    const seen = new Set<ClientEvent>();
    await fc.assert(
      fc.asyncProperty(cases, mode, async ([event, p], m) => {
        fc.pre(!mayBeAccepted(event, p, f.ids));
        seen.add(event);
        await check(f, event, p, m);
      }),
      options,
    );
    expect([...seen].sort()).toEqual([...EVENTS].sort());
    await expectQuietAndAlive(f);
  });

  it('never lets a __proto__ or constructor key reach Object.prototype', async () => {
    const f = await fixture();
    const inner = JSON.stringify({ conversation_id: f.ids.conv, text: 'x', polluted: true });
    const payloads = [
      `{"__proto__": ${inner}}`,
      `{"constructor": {"prototype": ${inner}}}`,
      `{"conversation_id": "${f.ids.conv}", "text": "x", "__proto__": {"polluted": true}}`,
    ].map((json) => JSON.parse(json) as unknown);

    for (const event of EVENTS) {
      for (const p of payloads) await emitAck(f.sa, event, p);
    }

    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
