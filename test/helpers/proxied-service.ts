import mongoose from 'mongoose';
import { connectClient, type ClientSocket } from './realtime';
import { startServiceProcess, type ServiceProcess } from './service-process';
import { proxiedDatabaseUri, startTcpProxy, testDatabaseTarget, type TcpProxy } from './tcp-proxy';

/** A real service process whose database connection runs through a TCP proxy (tcp-proxy.ts). */
export interface ProxiedService {
  readonly proxy: TcpProxy;
  readonly service: ServiceProcess;
  /** A real socket on the service, closed after the test. */
  connect(token: string): Promise<ClientSocket>;
  /** Closes `socket` after the test (one the test connected by other means). */
  closeAfterTest(socket: ClientSocket): void;
}

/**
 * One service process per test file, on this file's database through a proxy
 * the tests can cut, stall or make drop commands. The proxy forwards again
 * before and after each test, and the test's sockets are closed after it.
 */
export function useServiceBehindDatabaseProxy(env: Record<string, string> = {}): ProxiedService {
  let proxy: TcpProxy | undefined;
  let service: ServiceProcess | undefined;
  const sockets: ClientSocket[] = [];
  beforeAll(async () => {
    proxy = await startTcpProxy(testDatabaseTarget());
    service = await startServiceProcess({
      MONGODB_URI: proxiedDatabaseUri(proxy, mongoose.connection.name),
      ...env,
    });
  }, 40000);
  afterAll(async () => {
    await service?.stop();
    await proxy?.close();
  });
  beforeEach(() => proxy?.restore());
  afterEach(() => {
    proxy?.restore();
    sockets.splice(0).forEach((socket) => socket.close());
  });
  const started = <T>(value: T | undefined): T => {
    if (!value) throw new Error('the proxied service has not started');
    return value;
  };
  return {
    get proxy() {
      return started(proxy);
    },
    get service() {
      return started(service);
    },
    async connect(token) {
      const socket = await connectClient(started(service).url, token);
      sockets.push(socket);
      return socket;
    },
    closeAfterTest(socket) {
      sockets.push(socket);
    },
  };
}
