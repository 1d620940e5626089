import fc from 'fast-check';
import { Types } from 'mongoose';
import request, { type Response } from 'supertest';
import { createConversation, createUsers, insertMessages } from '../factories';
import { bodyOf } from '../helpers/api';
import {
  FUZZ_RUNS,
  FUZZ_SEED,
  HEX24,
  entriesToJson,
  hostileEntries,
  hostileScalar,
  wrongShape,
} from './arbitraries';
import {
  BODY_ROUTES,
  PARAM_ROUTES,
  ROUTES,
  queryAccepted,
  rawBodyAccepted,
  routeOf,
  type Route,
} from './rest-routes';
import {
  prototypeIsClean,
  storedState,
  useSecureServer,
  watchUnhandledRejections,
} from './support';

interface Failure {
  success: boolean;
  message?: unknown;
  code?: unknown;
}

describe('REST fuzzing (fast-check)', () => {
  const suite = useSecureServer();
  const rejections = watchUnhandledRejections();
  /** Routes the current property reached: each property must cover all of its routes. */
  const seen = new Set<string>();
  const routeNames = (routes: Route[]) => routes.map((r) => `${r.method} ${r.path}`).sort();
  beforeEach(() => seen.clear());

  async function fixture() {
    const [alice, bob, carol, dave] = await createUsers(4);
    const conv = await createConversation([alice, bob]);
    const foreign = await createConversation([bob, carol]);
    const [message] = await insertMessages(conv, [bob, alice], 3);
    const realIds = [alice.id, bob.id, carol.id, dave.id, conv, foreign, message];
    // Path params for body and query runs: the caller's conversation, harmless targets.
    const params = { id: conv, messageId: new Types.ObjectId().toString(), userId: dave.id };
    return { alice, realIds, params, state: await storedState() };
  }
  type Fixture = Awaited<ReturnType<typeof fixture>>;

  const fill = (path: string, params: Record<string, string>) =>
    path.replace(/:(\w+)/g, (_m, name: string) => params[name]);

  /** Sends one request; checks the answer, the prototype and (on a refusal) that nothing was written. */
  async function check(
    f: Fixture,
    route: Route,
    path: string,
    send: (r: request.Test) => request.Test,
    accepted: boolean,
  ): Promise<void> {
    seen.add(`${route.method} ${route.path}`);
    const url = `/api/chat${path}`;
    const res: Response = await send(
      request(suite.server.http)[route.method](url).set('Authorization', `Bearer ${f.alice.token}`),
    );
    const body = bodyOf<Failure>(res);
    const [before, after] = [f.state, await storedState()];
    // Updated before asserting, so that a failing run does not fail every shrinking run after it.
    f.state = after;
    const summary = { status: res.status, body: res.body as unknown, url };
    expect(prototypeIsClean()).toBe(true);
    if (res.status >= 200 && res.status < 300) {
      expect({ ...summary, accepted, success: body.success }).toEqual({
        ...summary,
        accepted: true,
        success: true,
      });
    } else {
      expect({ ...summary, clientError: res.status >= 400 && res.status < 500 }).toEqual({
        ...summary,
        clientError: true,
      });
      expect(body.success).toBe(false);
      expect(typeof body.message === 'string' && body.message.length > 0).toBe(true);
      expect(after).toBe(before);
    }
  }

  afterEach(async () => {
    expect((await request(suite.server.http).get('/health')).status).toBe(200);
    expect(prototypeIsClean()).toBe(true);
    expect(rejections).toEqual([]);
  });

  const options = { numRuns: FUZZ_RUNS, seed: FUZZ_SEED };

  it('answers hostile JSON bodies on every body route with a 4xx envelope, writing nothing', async () => {
    const f = await fixture();
    const [, bob, carol, dave] = f.realIds;
    // A valid body per route and the fields each reads. Near-valid input: the valid body
    // with hostile entries after it (overriding or adding), or one field reshaped.
    const valid: Record<string, Array<[string, unknown]>> = {
      '/conversations': [
        ['recipient_id', carol],
        ['listing_id', 'listing-1'],
      ],
      '/conversations/:id/messages': [
        ['text', 'hello'],
        ['client_message_id', 'c-1'],
      ],
      '/conversations/:id/participants': [['user_ids', [carol, dave]]],
    };
    const reads: Record<string, string[]> = {
      '/conversations': ['recipient_id', 'participant_ids', 'listing_id', 'horse_id'],
      '/conversations/:id/messages': ['text', 'client_message_id'],
      '/conversations/:id/participants': ['user_id', 'user_ids'],
    };
    const entries = hostileEntries(f.realIds);
    const reshaped = wrongShape([...f.realIds, 'hello', 'c-1']);
    const bodies = fc.oneof(
      ...BODY_ROUTES.map((route) => {
        const base = valid[route.path] ?? [['user_id', bob]];
        const field = fc.constantFrom(...(reads[route.path] ?? ['user_id']));
        return fc.tuple(
          fc.constant(route),
          fc.oneof(
            entries,
            entries.map((e) => [...base, ...e]),
            fc.tuple(field, reshaped).map((entry) => [...base, entry]),
          ),
        );
      }),
    );
    // Inputs that once answered 500, replayed first on every run.
    const regressions: Array<[[Route, Array<[string, unknown]>]]> = [
      [[routeOf('post', '/conversations'), [...valid['/conversations'], ['recipient_id', []]]]],
      [[routeOf('post', '/conversations'), [['participant_ids', [[carol]]]]]],
      [[routeOf('post', '/conversations/:id/participants'), [['user_id', [carol]]]]],
    ];
    await fc.assert(
      fc.asyncProperty(bodies, async ([route, entries]) => {
        const json = entriesToJson(entries);
        const parsed: unknown = JSON.parse(json);
        const send = (r: request.Test) => r.set('Content-Type', 'application/json').send(json);
        await check(f, route, fill(route.path, f.params), send, route.accepts?.(parsed) ?? false);
      }),
      { ...options, examples: regressions },
    );
    expect([...seen].sort()).toEqual(routeNames(BODY_ROUTES));
  });

  it('answers malformed and mistyped raw bodies with a 4xx, never a 5xx', async () => {
    const f = await fixture();
    const raw = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? 'null'),
      hostileEntries(f.realIds).map((e) => entriesToJson(e).slice(0, -1)),
      fc.constantFrom(
        '{"__proto__": {"polluted": true}}',
        '{"constructor": {"prototype": {"polluted": true}}}',
        `{"text": "${'x'.repeat(40 * 1024)}"}`,
        `${'['.repeat(5000)}${']'.repeat(5000)}`,
        `{"text": ${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}}`,
        '{"text": "hi", "text": {"$ne": null}}',
      ),
    );
    const contentType = fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/vnd.api+json',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...BODY_ROUTES),
        raw,
        contentType,
        async (route, text, type) => {
          const accepted = rawBodyAccepted(route, text, type);
          const send = (r: request.Test) => r.set('Content-Type', type).send(text);
          await check(f, route, fill(route.path, f.params), send, accepted);
        },
      ),
      options,
    );
    expect([...seen].sort()).toEqual(routeNames(BODY_ROUTES));
  });

  it('answers garbage query strings on every route with a 4xx unless the route ignores them', async () => {
    const f = await fixture();
    const known = ['page', 'limit', 'before', 'after', 'cursor', 'since'];
    const key = fc.oneof(
      fc.constantFrom(...known, 'token', '__proto__', 'constructor', 'sort', '$where'),
      fc
        .tuple(
          fc.constantFrom(...known, '__proto__'),
          fc.constantFrom('[]', '[$gt]', '[0]', '[__proto__]', '[a][b]'),
        )
        .map(([k, suffix]) => k + suffix),
      fc.string({ maxLength: 6 }),
    );
    const value = fc.oneof(
      fc.constantFrom('', '0', '1', '-1', '+1', '007', '1e3', '1.5', '0x10', 'NaN', 'Infinity'),
      fc.constantFrom('1000000000', '1000000001', '99999999999999999999', ' 1', 'null', '%', '%ZZ'),
      fc.constantFrom('%E0%A4%A', '%00', 'x'.repeat(300), 'MTIzOmFiYw', 'W10'),
      fc.nat().map(String),
      fc.string({ maxLength: 12 }).map(encodeURIComponent),
    );
    const query = fc
      .array(fc.tuple(key, value), { minLength: 1, maxLength: 5 })
      .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join('&'));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), query, async (route, q) => {
        const accepted = queryAccepted(route, q) && (route.accepts?.(undefined) ?? true);
        await check(f, route, `${fill(route.path, f.params)}?${q}`, (r) => r, accepted);
      }),
      options,
    );
    expect([...seen].sort()).toEqual(routeNames(ROUTES));
  });

  it('answers ids that are not ObjectIds, in every path parameter, with a 4xx', async () => {
    const f = await fixture();
    const badId = fc.oneof(
      hostileScalar(f.realIds)
        .map((v) => (typeof v === 'string' ? v : JSON.stringify(v)))
        .filter((s) => s.length > 0 && !HEX24.test(s))
        .map(encodeURIComponent),
      fc.constantFrom('%', '%zz', '%E0%A4%A', '%C0%AF', '..%2F..%2Fetc', '%7B%22$ne%22%3Anull%7D'),
      fc.constantFrom(...f.realIds).map((id) => `${id}%00`),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...PARAM_ROUTES),
        badId,
        fc.nat(),
        async (route, id, pick) => {
          const names = [...route.path.matchAll(/:(\w+)/g)].map((m) => m[1]);
          const bad = names[pick % names.length];
          const path = fill(route.path, { ...f.params, [bad]: id });
          await check(
            f,
            route,
            path,
            (r) => r.send({ text: 'valid text', user_id: f.realIds[2] }),
            false,
          );
        },
      ),
      options,
    );
    expect([...seen].sort()).toEqual(routeNames(PARAM_ROUTES));
  });

  it('never lets a __proto__ or constructor key reach Object.prototype', async () => {
    const f = await fixture();
    const payloads = [
      '{"__proto__": {"polluted": true}}',
      '{"constructor": {"prototype": {"polluted": true}}}',
      '{"text": "hi", "__proto__": {"polluted": true, "isAdmin": true}}',
      '{"participant_ids": {"__proto__": {"polluted": true}}}',
      '{"user_ids": {"constructor": {"prototype": {"polluted": true}}}}',
    ];
    for (const route of BODY_ROUTES) {
      for (const json of payloads) {
        const path = fill(route.path, f.params);
        const res = await request(suite.server.http)
          .post(`/api/chat${path}`)
          .set('Authorization', `Bearer ${f.alice.token}`)
          .set('Content-Type', 'application/json')
          .send(json);
        expect(res.status).toBeLessThan(500);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
      }
    }
    const query = await request(suite.server.http)
      .get('/api/chat/conversations?__proto__[polluted]=1&constructor[prototype][polluted]=1')
      .set('Authorization', `Bearer ${f.alice.token}`);
    expect(query.status).toBeLessThan(500);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
