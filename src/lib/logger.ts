import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs. Tokens, Authorization headers and message bodies never reach the log:
 * they are redacted by path wherever they could appear. `destination` (stdout by
 * default) lets tests capture exactly what production would write.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'marketplace-chat' },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.query.token',
        'req.body',
        'token',
        'text',
        'content',
        '*.token',
        '*.text',
        '*.content',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

const CREDENTIAL_QUERY = /([?&](?:token|access_token|jwt|auth|authorization)=)[^&#]*/gi;

/** A request URL fit for the log: credentials pasted into the query string are redacted. */
export function redactUrl(url: unknown): unknown {
  return typeof url === 'string' ? url.replace(CREDENTIAL_QUERY, '$1[redacted]') : url;
}
