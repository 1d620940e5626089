import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs. Tokens, Authorization headers and message bodies never reach the log:
 * they are redacted by path wherever they could appear.
 */
export function createLogger(level: string): Logger {
  return pino({
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
  });
}
