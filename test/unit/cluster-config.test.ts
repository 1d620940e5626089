import { ConfigError, loadConfig } from '../../src/config';
import { withDeadline } from '../../src/lib/deadline';

const BASE = { NODE_ENV: 'test', JWT_SECRET: 'a-test-secret-long-enough-for-hs256-0123456789' };

describe('REDIS_KEY_PREFIX', () => {
  it('defaults to "chat" and takes a safe name', () => {
    expect(loadConfig({ ...BASE }).redisKeyPrefix).toBe('chat');
    expect(loadConfig({ ...BASE, REDIS_KEY_PREFIX: 'chat-staging.eu_1' }).redisKeyPrefix).toBe(
      'chat-staging.eu_1',
    );
  });

  it.each(['with space', 'glob*', 'a:b', 'x'.repeat(65)])('refuses %j', (value) => {
    expect(() => loadConfig({ ...BASE, REDIS_KEY_PREFIX: value })).toThrow(ConfigError);
  });
});

describe('ROOM_AUDIT_INTERVAL_MS', () => {
  it('defaults to a minute; 0 turns the audit off', () => {
    expect(loadConfig({ ...BASE }).roomAuditIntervalMs).toBe(60000);
    expect(loadConfig({ ...BASE, ROOM_AUDIT_INTERVAL_MS: '0' }).roomAuditIntervalMs).toBe(0);
  });

  it.each(['-1', '3600001', 'soon', '1.5'])('refuses %j', (value) => {
    expect(() => loadConfig({ ...BASE, ROOM_AUDIT_INTERVAL_MS: value })).toThrow(ConfigError);
  });
});

describe('withDeadline (server-side emits that never settle without Redis)', () => {
  it('rejects once the deadline passes on a promise that never settles', async () => {
    const never = new Promise<number>(() => undefined);
    await expect(withDeadline(never, 50)).rejects.toThrow('no answer within 50 ms');
  });

  it('passes through a result that comes in time, and its rejection', async () => {
    await expect(withDeadline(Promise.resolve(3), 1000)).resolves.toBe(3);
    await expect(withDeadline(Promise.reject(new Error('no redis')), 1000)).rejects.toThrow(
      'no redis',
    );
  });
});
