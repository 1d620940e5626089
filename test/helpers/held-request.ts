import net from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * An HTTP/1.1 request sent in two parts over its own TCP connection: `start`
 * now, the rest when `finish` is called. Lets a test hold a request open across
 * an event (a SIGTERM): a request whose body is still arriving is in flight, and
 * one whose headers are incomplete has not reached the app yet.
 */
export interface HeldRequest {
  /** Sends the rest and resolves with the answer (rejects if the connection closes first). */
  finish(rest: string): Promise<RawResponse>;
  destroy(): void;
}

export function holdRequest(url: string, start: string): Promise<HeldRequest> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<RawResponse>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('close', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const split = raw.indexOf('\r\n\r\n');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(raw);
      if (split < 0 || !status) {
        reject(new Error(`connection closed without an answer (${JSON.stringify(raw)})`));
        return;
      }
      const headers: Record<string, string> = {};
      for (const line of raw.slice(0, split).split('\r\n').slice(1)) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(status[1]), headers, body: raw.slice(split + 4) });
    });
  });
  // Observed by finish(); without this an early close would be an unhandled rejection.
  ended.catch(() => undefined);
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write(start, () =>
        resolve({
          finish: (rest) => {
            if (!socket.destroyed) socket.write(rest);
            return ended;
          },
          destroy: () => socket.destroy(),
        }),
      );
    });
  });
}

/** The head of a request with `Connection: close`, so the answer ends with the connection. */
export function requestHead(
  method: string,
  path: string,
  headers: Record<string, string> = {},
): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n`;
}
