/**
 * One catalog of error codes. Services throw AppError; the HTTP error middleware
 * and the socket ack helper map it to the response envelope.
 */
export const ERROR_CATALOG = {
  VALIDATION_FAILED: { status: 400, message: 'Validation failed' },
  MALFORMED_JSON: { status: 400, message: 'Malformed JSON body' },
  UNAUTHENTICATED: { status: 401, message: 'Authentication required' },
  TOKEN_EXPIRED: { status: 401, message: 'Token expired: re-authenticate' },
  FORBIDDEN: { status: 403, message: 'Not allowed' },
  BLOCKED: { status: 403, message: 'You cannot message this user' },
  ORIGIN_NOT_ALLOWED: { status: 403, message: 'Origin not allowed' },
  CONVERSATION_NOT_FOUND: { status: 404, message: 'Conversation not found' },
  MESSAGE_NOT_FOUND: { status: 404, message: 'Message not found' },
  USER_NOT_FOUND: { status: 404, message: 'User not found' },
  ROUTE_NOT_FOUND: { status: 404, message: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed' },
  CONFLICT: { status: 409, message: 'Conflict' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'Payload too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Content-Type must be application/json' },
  RATE_LIMITED: { status: 429, message: 'Too many requests' },
  INTERNAL: { status: 500, message: 'Internal server error' },
  DATABASE_UNAVAILABLE: { status: 503, message: 'Service temporarily unavailable, retry shortly' },
  SHUTTING_DOWN: { status: 503, message: 'Server is shutting down, reconnect and retry' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export interface FieldError {
  field: string;
  message: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly errors?: FieldError[];
  /** For RATE_LIMITED: when the client may try again. */
  retryAfterMs?: number;

  constructor(code: ErrorCode, message?: string, errors?: FieldError[]) {
    super(message ?? ERROR_CATALOG[code].message);
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CATALOG[code].status;
    this.errors = errors;
  }

  static rateLimited(retryAfterMs: number, message?: string): AppError {
    const err = new AppError('RATE_LIMITED', message);
    err.retryAfterMs = Math.max(1, Math.ceil(retryAfterMs));
    return err;
  }

  /** Whether the client may retry the same request unchanged. */
  get retryable(): boolean {
    return this.status === 503 || this.status === 429;
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/** The failure envelope shared by REST responses and socket acks. */
export interface FailureBody {
  success: false;
  message: string;
  code: ErrorCode;
  errors?: FieldError[];
  retryable?: boolean;
  retry_after_ms?: number;
}

export function failureBody(err: AppError): FailureBody {
  const body: FailureBody = { success: false, message: err.message, code: err.code };
  if (err.errors && err.errors.length > 0) body.errors = err.errors;
  if (err.retryable) body.retryable = true;
  if (err.retryAfterMs !== undefined) body.retry_after_ms = err.retryAfterMs;
  return body;
}
