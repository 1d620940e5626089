import { createRequire } from 'node:module';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { mongo } from 'mongoose';
import { failureBody } from '../../src/lib/errors';
import { toAppError } from '../../src/lib/error-mapping';

/**
 * The database-outage scenario found this: when the database server closes a
 * connection just as a command is written, the MongoDB driver (7.x) rejects with
 * Node's own socket error (EPIPE, "This socket has been ended by the other
 * party") instead of a MongoNetworkError. It must still be a retryable 503, not
 * a 500 that tells the client to give up. Deterministic version, on a real socket.
 */

/** The error Node gives for a write on a connection whose peer has closed it. */
async function writeAfterPeerClosed(): Promise<Error> {
  const server = net.createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
  try {
    client.resume();
    await new Promise((resolve) => client.once('end', resolve));
    return await new Promise<Error>((resolve) => {
      client.once('error', resolve);
      client.write('ping');
    });
  } finally {
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('socket errors the database driver lets escape', () => {
  it('maps a write on a connection the server closed (EPIPE) to a retryable 503', async () => {
    const err = await writeAfterPeerClosed();
    expect((err as NodeJS.ErrnoException).code).toBe('EPIPE');

    const mapped = toAppError(err);

    expect(mapped.status).toBe(503);
    expect(failureBody(mapped)).toMatchObject({
      success: false,
      code: 'DATABASE_UNAVAILABLE',
      retryable: true,
    });
  });

  it.each(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT'])(
    'maps a bare %s to a retryable 503',
    (code) => {
      const err = Object.assign(new Error(`socket failure (${code})`), { code });
      expect(toAppError(err)).toMatchObject({ code: 'DATABASE_UNAVAILABLE', status: 503 });
    },
  );

  it('keeps a client that aborted its own request body a 400', () => {
    const aborted = Object.assign(new Error('request aborted'), {
      type: 'request.aborted',
      code: 'ECONNABORTED',
    });
    expect(toAppError(aborted)).toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
  });

  it('maps the driver errors of a stalled server (a pool cleared under the operation) to a retryable 503', () => {
    // Mongoose's own copy of the driver: the one the service's errors come from.
    const driverErrors = createRequire(require.resolve('mongoose'))('mongodb/lib/cmap/errors') as {
      PoolClearedOnNetworkError: new (pool: object) => Error;
    };
    const pool = { address: '127.0.0.1:27017', serverError: new Error('monitor timed out') };
    const cleared = new driverErrors.PoolClearedOnNetworkError(pool);
    expect(cleared.name).toBe('PoolClearedOnNetworkError');

    const stepDown = new mongo.MongoServerError({ message: 'not primary', code: 10107 });
    stepDown.addErrorLabel('RetryableWriteError');
    const duplicate = new mongo.MongoServerError({ message: 'E11000 duplicate key', code: 11000 });

    expect(toAppError(cleared)).toMatchObject({ code: 'DATABASE_UNAVAILABLE', status: 503 });
    expect(toAppError(stepDown)).toMatchObject({ code: 'DATABASE_UNAVAILABLE', status: 503 });
    expect(toAppError(duplicate)).toMatchObject({ code: 'INTERNAL', status: 500 });
  });
});
