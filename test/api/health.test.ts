import request from 'supertest';
import { buildTestApp } from '../helpers/app';

describe('health endpoints', () => {
  it('GET /health answers 200 without authentication', async () => {
    const { app } = buildTestApp();

    const res = await request(app).get('/health');

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, status: 'ok', uptime_s: expect.any(Number) });
  });

  it('GET /ready answers 200 while the database is connected', async () => {
    const { app } = buildTestApp();

    const res = await request(app).get('/ready');

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, status: 'ready', checks: { database: true } });
  });

  it('echoes a well-formed x-request-id and generates one otherwise', async () => {
    const { app } = buildTestApp();

    const echoed = await request(app).get('/health').set('x-request-id', 'abc-123');
    const generated = await request(app).get('/health').set('x-request-id', 'bad id with spaces');

    expect(echoed.headers['x-request-id']).toBe('abc-123');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('does not advertise the framework', async () => {
    const { app } = buildTestApp();

    const res = await request(app).get('/health');

    expect(res.headers['x-powered-by']).toBeUndefined();
  });
});
