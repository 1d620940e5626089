import request from 'supertest';
import { createConversation, createUsers } from '../factories';
import { emitAck, waitFor } from '../helpers/realtime';
import { joinHorseTrust } from '../helpers/realtime-suite';
import { badTokens } from '../helpers/tokens';
import { captureLogs, useSecureServer } from './support';

interface LogLine {
  level: number;
  msg: string;
  req?: { id?: string; method?: string; url?: string };
  res?: { statusCode?: number };
  socketId?: string;
  userId?: string;
}

/**
 * The logger is production's (same options), at debug, writing into memory. Every
 * secret used below is unique, so finding any part of it in the output is a leak.
 */
describe('log redaction', () => {
  const captured = captureLogs('debug');
  const suite = useSecureServer({ LOG_LEVEL: 'debug' }, () => captured.logger);
  const parsed = () => captured.lines.map((line) => JSON.parse(line) as LogLine);

  it('logs the request whose query has too many parameters, with its 400', async () => {
    const padding = Array.from({ length: 150 }, (_, i) => `k${i}=v`).join('&');
    captured.lines.length = 0;

    const res = await request(suite.server.http)
      .get(`/api/chat/conversations?${padding}`)
      .set('X-Request-Id', 'req-padded-1');

    expect(res.status).toBe(400);
    await waitFor(() => parsed().some((line) => line.req?.id === 'req-padded-1'));
    expect(parsed().find((line) => line.req?.id === 'req-padded-1')?.res?.statusCode).toBe(400);
  });

  it('logs one line per request and per socket connection, with no token, header or message text', async () => {
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);
    const restText = 'REST-SECRET-TEXT-7f3a9c';
    const socketText = 'SOCKET-SECRET-TEXT-2b8e41';
    const karmyqText = 'KARMYQ-SECRET-CONTENT-91d0';
    const badToken = badTokens.wrongKey(a.id);
    captured.lines.length = 0;

    // A REST send, with a request id so its line can be found.
    const sent = await suite
      .as(a.token)
      .post(`/conversations/${conv}/messages`, { text: restText })
      .set('X-Request-Id', 'req-send-1');
    // A refused token, and a token pasted into the query string (REST only reads the header).
    const refused = await suite.as(badToken).get('/conversations').set('X-Request-Id', 'req-bad-1');
    const queried = await request(suite.server.http)
      .get(`/api/chat/conversations?token=${a.token}&limit=5`)
      .set('X-Request-Id', 'req-query-1');
    // Sockets with the token in auth, in the Authorization header and in the query.
    const sa = await suite.connect(a.token);
    const sb = await suite.connect(null, {
      auth: {},
      extraHeaders: { Authorization: `Bearer ${b.token}` },
    });
    await suite.connect(null, { auth: {}, query: { token: a.token } });
    await suite.refused(badToken);
    await joinHorseTrust(sb, conv);
    expect(
      await emitAck(sa, 'send_message', { conversation_id: conv, text: socketText }),
    ).toMatchObject({ success: true });
    expect(
      await emitAck(sa, 'send_message', {
        conversation_id: conv,
        sender_id: a.id,
        content: karmyqText,
      }),
    ).toMatchObject({ success: true });
    expect(await emitAck(sa, 'authenticate', { token: a.token })).toMatchObject({ success: true });
    await waitFor(() => parsed().filter((l) => l.msg === 'socket connected').length === 3);

    expect([sent.status, refused.status, queried.status]).toEqual([201, 401, 401]);
    const lines = parsed();
    const requestLine = (id: string) => lines.find((l) => l.req?.id === id);
    expect(requestLine('req-send-1')).toMatchObject({
      msg: 'request completed',
      req: { method: 'POST', url: `/api/chat/conversations/${conv}/messages` },
      res: { statusCode: 201 },
    });
    expect(requestLine('req-bad-1')).toMatchObject({
      msg: 'request completed',
      res: { statusCode: 401 },
    });
    expect(requestLine('req-query-1')).toMatchObject({
      req: { url: '/api/chat/conversations?token=[redacted]&limit=5' },
      res: { statusCode: 401 },
    });
    const connects = lines.filter((l) => l.msg === 'socket connected');
    expect(connects.map((l) => l.userId).sort()).toEqual([a.id, a.id, b.id].sort());
    expect(connects.every((l) => typeof l.socketId === 'string')).toBe(true);

    const output = captured.lines.join('\n');
    const secrets = [a.token, b.token, badToken, restText, socketText, karmyqText];
    for (const secret of secrets) {
      // Any of a token's three parts would do: a signature alone is still a secret.
      for (const part of secret.split('.').filter((p) => p.length >= 8)) {
        expect({ leaked: output.includes(part), part }).toEqual({ leaked: false, part });
      }
    }
    expect(output).not.toMatch(/bearer/i);
    expect(output).not.toMatch(/"authorization"\s*:/i);
  });
});
